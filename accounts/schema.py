"""OpenAPI description of the Clerk bearer authentication (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ClerkSessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ClerkSessionAuthentication"
    name = "ClerkSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Clerk session token (RS256 JWT) in `Authorization: Bearer <jwt>`.",
        }
