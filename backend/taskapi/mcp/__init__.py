"""The MCP server at /mcp: AI assistants manage the signed-in user's tasks through the task operations."""
