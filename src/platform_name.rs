//! File-system names for JCR names (FileVault's PlatformNameFormat).
