//! The backup API of `jcrpack serve` (issue 21 item 3): filled in by the backup
//! API's own change; an empty router until then.

use super::state::AppState;
use axum::Router;

/// The backup API's routes (all behind authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
}
