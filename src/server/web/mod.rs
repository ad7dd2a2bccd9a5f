//! The web page of `jcrpack serve` (issue 21 item 4): filled in by the page's own
//! change; empty routers until then.

use super::state::AppState;
use axum::Router;

/// The page's routes that need a logged-in user.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// The page's routes open to everyone (the login form, its static files).
pub fn public_routes() -> Router<AppState> {
    Router::new()
}
