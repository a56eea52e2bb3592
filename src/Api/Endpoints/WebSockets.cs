using CallNotify.Api.Http;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.WebSockets.AuthorizeWebSocket;
using CallNotify.Application.WebSockets.IssueWebSocketToken;
using CallNotify.Api.WebSockets;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CallNotify.Api.Endpoints;

/// <summary>Live clients: <c>POST /admin/v1/websocket-tokens</c> issues tokens; <c>GET /v1/websocket</c> connects.</summary>
public static class WebSockets
{
    public const string Path = "/v1/websocket";

    public static RouteGroupBuilder MapWebSocketTokens(this RouteGroupBuilder admin)
    {
        admin.MapPost("/websocket-tokens", IssueToken)
            .WithName("IssueWebSocketToken")
            .WithTags("WebSocket")
            .WithSummary("Issue a WebSocket token for one identity")
            .WithDescription("A token for `GET /v1/websocket` as (`accountSid`, `identity`), valid for `ttlSeconds` (default 3600, at most 86400).")
            .Answers(StatusCodes.Status200OK, "The token and when it expires: `{token, expiresAt}`.")
            .Answers(StatusCodes.Status400BadRequest, "A field is invalid (malformed Account SID, identity empty or over 256 characters, `ttlSeconds` out of range) or the body is not JSON; the fields are listed.")
            .AnswersUnsupportedMediaType();
        return admin;
    }

    public static IEndpointRouteBuilder MapWebSocketClients(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, Connect)
            .RequireRateLimiting(RateLimitOptions.WebSocketPolicy)
            .WithName("ConnectWebSocket")
            .WithTags("WebSocket")
            .WithSummary("Connect a live client: a WebSocket that receives the identity's call notifications, byte for byte")
            .WithDescription(
                "Each call notification of the token's (account, identity) arrives as one text frame holding the exact webhook body. "
                + "The client may send `{\"type\":\"ack\",\"twi_message_id\":\"WB…\"}` to mark its delivery acknowledged. The server pings "
                + "to keep the connection alive and drops sessions that stop answering. It closes a session with 1008 and a reason when the token "
                + "expires (`token-expired`), the identity is signed out everywhere (`signed-out`), a newer session takes its place beyond "
                + "`WebSocket:MaxSessionsPerIdentity` (`session-cap`) or the client sends more than `WebSocket:MaxFramesPerMinute` messages "
                + "(`frame-rate`); with 1009 for a message over `WebSocket:MaxFrameBytes` (4096 bytes by default); with 1001 on shutdown.")
            .SecuredBy(OpenApiDescription.WebSocketTokenScheme)
            .Answers(StatusCodes.Status101SwitchingProtocols, "The upgrade is accepted: the session is open and counts as an active client.")
            .Answers(StatusCodes.Status400BadRequest, "The token is valid, but the request is not a WebSocket upgrade.", typeof(ProblemDetails))
            .Answers(StatusCodes.Status401Unauthorized, "The token (`?token=` or `Authorization: Bearer`: a WebSocket token or a Twilio Access Token) is missing, forged or expired, or was issued before the identity's sign-out everywhere.")
            .Answers(StatusCodes.Status403Forbidden, "A Twilio Access Token that does not allow incoming calls (`grants.voice.incoming.allow`).")
            .Answers(StatusCodes.Status429TooManyRequests, "Too many upgrades from this address (`RateLimits:WebSocketUpgradesPerMinute`); retry after `Retry-After` seconds.");
        return app;
    }

    internal static async Task<Ok<WebSocketToken>> IssueToken(IssueWebSocketTokenRequest request, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sender.Send(new IssueWebSocketTokenCommand(request.AccountSid, request.Identity, request.TtlSeconds), cancellationToken));

    internal static async Task<Results<EmptyHttpResult, ProblemHttpResult>> Connect(
        HttpContext context,
        ISender sender,
        WebSocketSessionLoop sessions)
    {
        var token = context.Request.Query["token"].ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        if (token.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = authorization["Bearer ".Length..].Trim();
        }

        var verdict = await sender.Send(new AuthorizeWebSocketQuery(token), context.RequestAborted);
        if (verdict.Forbidden)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: verdict.Detail);
        }

        if (verdict.Claims is not { } claims)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: verdict.Detail);
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade expected.");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await sessions.RunAsync(socket, claims, sender, context.RequestAborted);
        return TypedResults.Empty;
    }
}

public sealed record IssueWebSocketTokenRequest(string? AccountSid, string? Identity, int? TtlSeconds);
