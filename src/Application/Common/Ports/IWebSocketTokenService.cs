using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>Issues and checks the signed tokens WebSocket clients connect with.</summary>
public interface IWebSocketTokenService
{
    WebSocketToken Issue(AccountSid accountSid, ClientIdentity identity, DateTimeOffset expiresAt);

    /// <summary>The (account, identity) the token was issued for, or null when it is forged, malformed or expired.</summary>
    WebSocketClaims? Validate(string? token);
}

public sealed record WebSocketToken(string Token, DateTimeOffset ExpiresAt);

/// <param name="IssuedAt">When the token was issued (<see cref="DateTimeOffset.MinValue"/> for a token that does not say).</param>
public sealed record WebSocketClaims(AccountSid AccountSid, ClientIdentity Identity, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt);
