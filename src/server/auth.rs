//! Who is asking: HTTP Basic as AEM takes it (preemptive, on every request), or,
//! through a [`SessionHook`] the page installs, a session cookie. Every route but
//! the health check goes through [`require_user`]; a handler names the caller with
//! the [`User`] extractor.
//!
//! Passwords are checked against the argon2 hashes of [`crate::users`]. When no
//! user can log in and the server listens on loopback only, the one login is AEM's
//! default `admin`/`admin` (what aemsync and every Package Manager client send out of
//! the box); [`super::bind`] refuses any other address without a user.

use super::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The logged-in user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub name: String,
}

/// How the page's sessions log users in: the authentication asks it when a request
/// carries no valid HTTP Basic credentials.
pub trait SessionHook: Send + Sync {
    /// The user of the request's session, if it has a valid one.
    fn user(&self, parts: &Parts) -> Option<User>;

    /// The answer to a request without a user, when the page wants another than the
    /// API's 401 (a redirect to its login form for a browser's page request).
    fn challenge(&self, parts: &Parts) -> Option<Response> {
        let _ = parts;
        None
    }
}

/// The realm of the `WWW-Authenticate` challenge.
pub const REALM: &str = "jcrpack";

/// The 401 answer with AEM's challenge.
pub fn unauthorized() -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"jcrpack\""),
    );
    r
}

/// Middleware: lets the request through with its [`User`] in the extensions, or
/// answers 401 (or the session hook's challenge).
pub async fn require_user(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let user = match basic_credentials(&parts) {
        Some((name, password)) => check(&state, name, password).await,
        None => None,
    };
    let user = user.or_else(|| state.session_hook().and_then(|h| h.user(&parts)));
    match user {
        Some(u) => {
            parts.extensions.insert(u);
            next.run(Request::from_parts(parts, body)).await
        }
        None => state
            .session_hook()
            .and_then(|h| h.challenge(&parts))
            .unwrap_or_else(unauthorized),
    }
}

/// The user name and password of an `Authorization: Basic` header.
pub fn basic_credentials(parts: &Parts) -> Option<(String, String)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

/// Checks `name`/`password` against the repository's users.
async fn check(state: &AppState, name: String, password: String) -> Option<User> {
    if crate::users::check_name(&name).is_err() {
        return None;
    }
    let digest: [u8; 32] = Sha256::digest(password.as_bytes()).into();
    let dev_admin = state.config().loopback_only();
    let (hash, any_user) = match state.cached_lookup(&name) {
        Some(found) => found,
        None => {
            let lookup_name = name.clone();
            let found = state
                .read(move |store| {
                    let hash = crate::users::password_hash(store, &lookup_name)
                        .ok()
                        .flatten();
                    // Only the default login needs to know whether anybody can log in.
                    let any = if hash.is_none() && lookup_name == "admin" {
                        crate::users::any_can_log_in(store).unwrap_or(true)
                    } else {
                        true
                    };
                    (hash, any)
                })
                .await
                .ok()?;
            state.remember_lookup(&name, found.0.clone(), found.1);
            found
        }
    };
    let Some(hash) = hash else {
        return (dev_admin && !any_user && name == "admin" && password == "admin")
            .then_some(User { name });
    };
    if state.was_verified(&name, &hash, &digest) {
        return Some(User { name });
    }
    let h = hash.clone();
    let ok = tokio::task::spawn_blocking(move || crate::users::verify_password(&password, &h))
        .await
        .unwrap_or(false);
    if ok {
        state.remember_verified(&name, &hash, digest);
        Some(User { name })
    } else {
        None
    }
}

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<User>()
            .cloned()
            .ok_or_else(unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(auth: Option<&str>) -> Parts {
        let mut b = Request::builder().uri("/x");
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn reads_basic_credentials() {
        assert_eq!(
            basic_credentials(&parts(Some("Basic YWRtaW46YWRtaW4="))),
            Some(("admin".into(), "admin".into()))
        );
        // A password may hold ':'.
        let v = base64::engine::general_purpose::STANDARD.encode("a:b:c");
        assert_eq!(
            basic_credentials(&parts(Some(&format!("basic {v}")))),
            Some(("a".into(), "b:c".into()))
        );
        assert_eq!(basic_credentials(&parts(Some("Bearer abc"))), None);
        assert_eq!(basic_credentials(&parts(Some("Basic !!!"))), None);
        assert_eq!(basic_credentials(&parts(None)), None);
    }

    #[test]
    fn the_challenge_is_basic() {
        let r = unauthorized();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"jcrpack\""
        );
    }
}
