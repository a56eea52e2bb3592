using CallNotify.Application.Common.Ports;
using CallNotify.Application.WebSockets.AcknowledgeDelivery;
using CallNotify.Application.WebSockets.AuthorizeWebSocket;
using CallNotify.Application.WebSockets.IssueWebSocketToken;
using CallNotify.Infrastructure.WebSockets;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;

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
            .ProducesValidationProblem();
        return admin;
    }

    public static IEndpointRouteBuilder MapWebSocketClients(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, Connect)
            .RequireRateLimiting(Http.RateLimitOptions.WebSocketPolicy)
            .WithName("ConnectWebSocket")
            .WithTags("WebSocket")
            .WithSummary("Upgrade to a WebSocket that receives the callee's call notifications, byte for byte.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    internal static async Task<Ok<WebSocketToken>> IssueToken(IssueWebSocketTokenRequest request, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sender.Send(new IssueWebSocketTokenCommand(request.AccountSid, request.Identity, request.TtlSeconds), cancellationToken));

    internal static async Task<Results<EmptyHttpResult, ProblemHttpResult>> Connect(
        HttpContext context,
        ISender sender,
        WebSocketSessionHost sessions)
    {
        var token = context.Request.Query["token"].ToString();
        var authorization = context.Request.Headers.Authorization.ToString();
        if (token.Length == 0 && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = authorization["Bearer ".Length..].Trim();
        }

        var claims = await sender.Send(new AuthorizeWebSocketQuery(token), context.RequestAborted);
        if (claims is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "A valid WebSocket token is required.");
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "WebSocket upgrade expected.");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await sessions.RunAsync(
            socket,
            claims,
            (sessionId, twiMessageId, ct) => sender.Send(new AcknowledgeDeliveryCommand(claims.AccountSid, claims.Identity, sessionId, twiMessageId), ct).AsTask(),
            context.RequestAborted);
        return TypedResults.Empty;
    }
}

public sealed record IssueWebSocketTokenRequest(string? AccountSid, string? Identity, int? TtlSeconds);
