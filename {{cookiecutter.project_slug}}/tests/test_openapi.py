from app.openapi import DEFINITION, document


def test_openapi_json_is_the_api_the_routes_serve() -> None:
    assert DEFINITION.read_text(encoding="utf-8") == document(), (
        "openapi.json differs from the routes: run `make openapi` and commit it"
    )
