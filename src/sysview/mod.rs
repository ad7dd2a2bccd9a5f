//! JCR system view XML: streaming reader and writer.
