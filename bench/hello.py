"""The baseline: the smallest Litestar app, served the same way as kontor, so the benchmark can say how
much of a request's cost is kontor's own."""

from litestar import Litestar, get


@get("/", media_type="text/plain", sync_to_thread=False)
def hello() -> str:
    return "Hello, world!"


app = Litestar(route_handlers=[hello], openapi_config=None)
