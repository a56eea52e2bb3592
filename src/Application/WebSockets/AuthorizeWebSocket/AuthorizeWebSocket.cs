using CallNotify.Application.Common.Ports;
using Mediator;

namespace CallNotify.Application.WebSockets.AuthorizeWebSocket;

/// <summary>
/// Checks a WebSocket client's token; null when it is missing, forged or expired, or was issued at or before its
/// identity's last sign-out everywhere.
/// </summary>
public sealed record AuthorizeWebSocketQuery(string? Token) : IQuery<WebSocketClaims?>;

public sealed class AuthorizeWebSocketHandler(IWebSocketTokenService tokens, ISignOuts signOuts) : IQueryHandler<AuthorizeWebSocketQuery, WebSocketClaims?>
{
    public async ValueTask<WebSocketClaims?> Handle(AuthorizeWebSocketQuery query, CancellationToken cancellationToken)
    {
        if (tokens.Validate(query.Token) is not { } claims)
        {
            return null;
        }

        var signedOutAt = await signOuts.LastAsync(claims.AccountSid, claims.Identity, cancellationToken);
        return signedOutAt >= claims.IssuedAt ? null : claims;
    }
}
