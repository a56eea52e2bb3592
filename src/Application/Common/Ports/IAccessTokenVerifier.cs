using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// Checks the Twilio Access Token an app already holds for the Voice SDK (an HS256 JWT signed with one of the
/// account's API key secrets): the client endpoints' credential.
/// </summary>
public interface IAccessTokenVerifier
{
    /// <summary>The token's caller, or why it is refused. Never throws for a bad token.</summary>
    AccessTokenVerdict Verify(string? token);

    /// <summary>Whether the token is shaped as a JWT at all (three dot-separated parts), so worth <see cref="Verify"/>.</summary>
    bool LooksLikeAccessToken(string? token);
}

/// <param name="IssuedAt">
/// The earliest the token may have been issued: from its <c>jti</c> (<c>SK…-&lt;unix seconds&gt;</c>) less a second, else its
/// <c>nbf</c>, else the beginning of time.
/// </param>
/// <param name="IncomingAllowed"><c>grants.voice.incoming.allow</c> is true: the client may receive calls.</param>
public sealed record AccessTokenClaims(
    AccountSid AccountSid, ClientIdentity Identity, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt, bool IncomingAllowed);

/// <summary>A verified token's claims, or the refusal (a short reason safe to show the caller; never the token).</summary>
public sealed record AccessTokenVerdict(AccessTokenClaims? Claims, string? Refusal)
{
    public static AccessTokenVerdict Refused(string reason) => new(null, reason);

    public static AccessTokenVerdict Valid(AccessTokenClaims claims) => new(claims, null);
}
