//! Node type definitions: the CND compact syntax, built-in node types and the node type registry.
