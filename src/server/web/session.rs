//! The page's sessions: after a login, a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie names the user; each session also has a CSRF token
//! that every form (a hidden `csrf` field) and every script's write (the
//! `X-CSRF-Token` header) must send back. Sessions live in the server's memory and
//! end after [`IDLE`] without a request, on log out, or when the server stops.

use super::html::Flash;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The cookie's name.
pub const COOKIE: &str = "jcrpack_session";

/// How long a session lasts without a request.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);

/// At most this many sessions at once (the oldest goes first).
pub const MAX_SESSIONS: usize = 10_000;

/// One logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user.
    pub user: String,
    /// The token its forms send back.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    session: Session,
    seen: Instant,
    /// The message the next page shows (after a form's redirect).
    flash: Option<Flash>,
}

/// The sessions of one server (clones share them).
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    map: Arc<Mutex<HashMap<String, Entry>>>,
}

/// 32 random bytes as 64 hex digits, from the operating system.
pub fn random_token() -> std::io::Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    /// No sessions.
    pub fn new() -> Sessions {
        Sessions::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session for `user`: returns the cookie token and the session.
    pub fn create(&self, user: &str) -> std::io::Result<(String, Session)> {
        let token = random_token()?;
        let session = Session {
            user: user.to_string(),
            csrf: random_token()?,
        };
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, e| now.duration_since(e.seen) < IDLE);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, e)| e.seen)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            token.clone(),
            Entry {
                session: session.clone(),
                seen: now,
                flash: None,
            },
        );
        Ok((token, session))
    }

    /// The session of a cookie token, when it is live (and marks it used).
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.lock();
        let live = match map.get_mut(token) {
            Some(e) if now.duration_since(e.seen) < IDLE => {
                e.seen = now;
                return Some(e.session.clone());
            }
            Some(_) => false,
            None => return None,
        };
        if !live {
            map.remove(token);
        }
        None
    }

    /// Keeps `flash` for the session's next page.
    pub fn set_flash(&self, token: &str, flash: Flash) {
        if let Some(e) = self.lock().get_mut(token) {
            e.flash = Some(flash);
        }
    }

    /// The message kept for this page, once.
    pub fn take_flash(&self, token: &str) -> Option<Flash> {
        self.lock().get_mut(token).and_then(|e| e.flash.take())
    }

    /// Ends a session.
    pub fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Ends every session of `user` (its password changed or it was removed).
    pub fn remove_user(&self, user: &str) {
        self.lock().retain(|_, e| e.session.user != user);
    }
}

/// The session token in a `Cookie` header's value, if any.
pub fn token_in_cookies(header: &str) -> Option<&str> {
    header.split(';').find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE && !v.is_empty()).then_some(v)
    })
}

/// The `Set-Cookie` value that hands a browser its session.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        IDLE.as_secs()
    )
}

/// The `Set-Cookie` value that ends a browser's session.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_token_until_it_ends() {
        let s = Sessions::new();
        let (token, session) = s.create("ada").unwrap();
        assert_eq!(token.len(), 64);
        assert_ne!(session.csrf, token);
        assert_eq!(s.get(&token), Some(session.clone()));
        s.set_flash(&token, Flash::Info("saved".into()));
        assert_eq!(s.take_flash(&token), Some(Flash::Info("saved".into())));
        assert_eq!(s.take_flash(&token), None);
        assert_eq!(s.get("nope"), None);
        s.remove(&token);
        assert_eq!(s.get(&token), None);
        let (t2, _) = s.create("bob").unwrap();
        s.remove_user("bob");
        assert_eq!(s.get(&t2), None);
    }

    #[test]
    fn tokens_differ_and_compare_exactly() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token(&a, &a[..63]));
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        assert_eq!(
            token_in_cookies("a=1; jcrpack_session=abc; b=2"),
            Some("abc")
        );
        assert_eq!(token_in_cookies("jcrpack_session="), None);
        assert_eq!(token_in_cookies("x=jcrpack_session"), None);
        assert!(set_cookie("t").contains("HttpOnly; SameSite=Strict"));
    }
}
