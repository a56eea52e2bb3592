using CallNotify.Application.Common.Ports;
using Mediator;

namespace CallNotify.Application.WebSockets.AuthorizeWebSocket;

/// <summary>Checks a WebSocket client's token; null when it is missing, forged or expired.</summary>
public sealed record AuthorizeWebSocketQuery(string? Token) : IQuery<WebSocketClaims?>;

public sealed class AuthorizeWebSocketHandler(IWebSocketTokenService tokens) : IQueryHandler<AuthorizeWebSocketQuery, WebSocketClaims?>
{
    public ValueTask<WebSocketClaims?> Handle(AuthorizeWebSocketQuery query, CancellationToken cancellationToken) =>
        ValueTask.FromResult(tokens.Validate(query.Token));
}
