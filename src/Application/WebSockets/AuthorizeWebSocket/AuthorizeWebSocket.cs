using CallNotify.Application.Clients;
using CallNotify.Application.Common.Ports;
using Mediator;

namespace CallNotify.Application.WebSockets.AuthorizeWebSocket;

/// <summary>
/// Checks a WebSocket client's token: CallNotify's own WebSocket token, or the app's Twilio Access Token (SPEC §6a).
/// Refused (401) when it is missing, forged or expired, or was issued at or before its identity's last sign-out
/// everywhere; forbidden (403) for an Access Token that does not allow incoming calls.
/// </summary>
public sealed record AuthorizeWebSocketQuery(string? Token) : IQuery<WebSocketAuthorization>;

/// <param name="Claims">Who the session is for and until when; null when refused.</param>
/// <param name="Forbidden">A valid Access Token without <c>grants.voice.incoming.allow</c>.</param>
public sealed record WebSocketAuthorization(WebSocketClaims? Claims, bool Forbidden = false, string? Detail = null);

public sealed class AuthorizeWebSocketHandler(
    IWebSocketTokenService tokens,
    IAccessTokenVerifier accessTokens,
    ISignOuts signOuts,
    ClientAuthenticator clients) : IQueryHandler<AuthorizeWebSocketQuery, WebSocketAuthorization>
{
    public async ValueTask<WebSocketAuthorization> Handle(AuthorizeWebSocketQuery query, CancellationToken cancellationToken)
    {
        if (tokens.Validate(query.Token) is { } claims)
        {
            return await signOuts.VoidsAsync(claims.AccountSid, claims.Identity, claims.IssuedAt, cancellationToken)
                ? new WebSocketAuthorization(null, Detail: "The identity was signed out everywhere after this token was issued.")
                : new WebSocketAuthorization(claims);
        }

        if (!accessTokens.LooksLikeAccessToken(query.Token))
        {
            return new WebSocketAuthorization(null, Detail: "A valid WebSocket token or Twilio Access Token is required.");
        }

        var client = await clients.AuthenticateAsync(query.Token, cancellationToken);
        return client switch
        {
            { Status: ClientAuthenticationStatus.Authenticated, Caller: { } caller } =>
                new WebSocketAuthorization(new WebSocketClaims(caller.AccountSid, caller.Identity, caller.ExpiresAt, caller.IssuedAt)),
            { Status: ClientAuthenticationStatus.Forbidden } => new WebSocketAuthorization(null, Forbidden: true, client.Detail),
            _ => new WebSocketAuthorization(null, Detail: client.Detail),
        };
    }
}
