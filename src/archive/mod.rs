//! One archive idea over zip files and exploded folders, read lazily.
