//! The marketplace mock: REST API and MCP server.
