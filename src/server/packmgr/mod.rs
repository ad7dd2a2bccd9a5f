//! AEM's Package Manager HTTP API, wave 1 (`shared/reference/packmgr-api.md` §4).

use super::state::AppState;
use axum::Router;

/// The Package Manager's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
