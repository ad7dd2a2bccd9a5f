//! Enhanced DocView (`.content.xml`): value grammar, ISO 9075 names, streaming reader and exact writer.
