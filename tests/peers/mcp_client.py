"""An MCP client built with the official Python SDK (PyPI `mcp`, v2): connects to Agora's /mcp over
Streamable HTTP, lists the tools, runs one search and one bad call, and prints what it saw as one
JSON object on stdout (tests/it/mcp.rs compares it with the JSON API).

Usage: mcp_client.py URL QUERY
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, query: str) -> None:
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            found = await session.call_tool("search_services", {"q": query})
            bad = await session.call_tool("search_services", {"limit": "five"})
            print(json.dumps({
                "tools": sorted(tool.name for tool in tools.tools),
                "ids": [hit["id"] for hit in found.structured_content["hits"]],
                "total": found.structured_content["total"],
                "bad_is_error": bad.is_error,
                "bad_text": " ".join(block.text for block in bad.content if getattr(block, "text", None)),
            }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
