//! How the C allocator (glibc's malloc, which Rust's global allocator calls) is set
//! up for a jcrpack process (issue 16: peak memory bounded, not grown by the
//! allocator's own bookkeeping).
//!
//! glibc gives each thread that allocates an arena of its own (up to eight a core),
//! and an arena gives memory back to the system only from its top. jcrpack runs its
//! command on a worker thread, and an install reads ahead on another
//! ([`crate::import`]): what the reader allocates (an entry's bytes, a parsed
//! document) comes from the reader's arena, is freed by the installer, and stays
//! with that arena, so the two arenas each keep the free memory of their own peaks.
//! At 1M nodes the reader's arena kept 12 MB while holding almost nothing, and the
//! import's peak RSS was 160 MiB; with [`ARENAS`] = 1 (every thread shares one
//! arena, whose free memory either thread reuses) it was 134 MiB.
//!
//! A fixed mmap threshold (256 KiB or 1 MiB, so that glibc does not raise it when
//! the listing's temporary arrays are freed) was measured too: no lower peak, and
//! more system time (every large buffer mapped, faulted in and unmapped).
//!
//! Only the binary calls [`configure`] (before it starts any thread, and not for
//! `serve`, whose request threads would contend for one arena); the library leaves
//! a host process's allocator alone. `MALLOC_ARENA_MAX` in the environment, glibc's
//! own setting, wins over ours.

/// Arenas at most: one, shared by every thread.
pub const ARENAS: i32 = 1;

/// Sets the allocator up as the module doc says. True when the setting was
/// accepted (always, with glibc, unless `MALLOC_ARENA_MAX` is set); false
/// elsewhere, where nothing is changed.
pub fn configure() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return false;
        }
        // SAFETY: mallopt only changes the allocator's parameters; it is called
        // before the process starts any thread of its own.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_takes_the_setting() {
        // The environment's setting wins; without it ours is taken.
        assert_eq!(configure(), std::env::var_os("MALLOC_ARENA_MAX").is_none());
    }
}
