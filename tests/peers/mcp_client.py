"""An MCP client built with the official Python SDK (PyPI `mcp`, v2): connects to Agora's /mcp over
Streamable HTTP, lists the tools, calls each of them (the SDK checks every structured answer
against the tool's output schema, and raises when one does not match), makes one bad call, and
prints what it saw as one JSON object on stdout (tests/it/mcp.rs compares it with the JSON API).

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
            first = found.structured_content["hits"][0]
            wide = await session.call_tool("search_services", {"q": query, "fields": ["offers", "score", "tags"]})
            detail = await session.call_tool("get_service", {"url": first["url"]})
            facets = await session.call_tool("list_facets", {})
            changes = await session.call_tool("recent_changes", {"limit": 5})
            checked = await session.call_tool("check_endpoint", {"url": "http://10.0.0.1/private"})
            answers = [found, wide, detail, facets, changes, checked]
            bad = await session.call_tool("search_services", {"limit": "five"})
            print(json.dumps({
                "tools": sorted(tool.name for tool in tools.tools),
                "ids": [hit["id"] for hit in found.structured_content["hits"]],
                "total": found.structured_content["total"],
                "errors": [answer.is_error for answer in answers],
                "detail_id": detail.structured_content["id"],
                "facet_matching": facets.structured_content["matching"],
                "change_events": len(changes.structured_content["events"]),
                "checked_verdict": checked.structured_content["report"]["verdict"],
                "bad_is_error": bad.is_error,
                "bad_text": " ".join(block.text for block in bad.content if getattr(block, "text", None)),
            }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
