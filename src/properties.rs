//! Package properties (`META-INF/vault/properties.xml`, Java XML properties format).
