using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Clients;

/// <summary>The app calling a client endpoint, as its Twilio Access Token names it (SPEC §6a).</summary>
public sealed record ClientCaller(AccountSid AccountSid, ClientIdentity Identity, DateTimeOffset ExpiresAt, DateTimeOffset IssuedAt);

public enum ClientAuthenticationStatus
{
    Authenticated,

    /// <summary>The token is missing, bad, expired, or from before the identity's sign-out (401).</summary>
    Unauthenticated,

    /// <summary>A valid token without <c>grants.voice.incoming.allow</c> (403).</summary>
    Forbidden,
}

public sealed record ClientAuthentication(ClientAuthenticationStatus Status, ClientCaller? Caller, string? Detail);

/// <summary>
/// Authenticates a client endpoint's caller by its Access Token: verified (signature, key, account, times, identity),
/// not issued at or before the identity's last sign-out everywhere, and allowed incoming calls.
/// </summary>
public sealed record AuthenticateClientQuery(string? Token) : IQuery<ClientAuthentication>;

public sealed class AuthenticateClientHandler(ClientAuthenticator authenticator)
    : IQueryHandler<AuthenticateClientQuery, ClientAuthentication>
{
    public async ValueTask<ClientAuthentication> Handle(AuthenticateClientQuery query, CancellationToken cancellationToken) =>
        await authenticator.AuthenticateAsync(query.Token, cancellationToken);
}

/// <summary>The one rule of an Access Token's caller, for the client endpoints and the WebSocket alike.</summary>
public sealed class ClientAuthenticator(IAccessTokenVerifier verifier, ISignOuts signOuts)
{
    public async Task<ClientAuthentication> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        var verdict = verifier.Verify(token);
        if (verdict.Claims is not { } claims)
        {
            return new ClientAuthentication(ClientAuthenticationStatus.Unauthenticated, null, verdict.Refusal);
        }

        if (await signOuts.VoidsAsync(claims.AccountSid, claims.Identity, claims.IssuedAt, cancellationToken))
        {
            return new ClientAuthentication(
                ClientAuthenticationStatus.Unauthenticated, null, "The identity was signed out everywhere after this Access Token was issued.");
        }

        var caller = new ClientCaller(claims.AccountSid, claims.Identity, claims.ExpiresAt, claims.IssuedAt);
        return claims.IncomingAllowed
            ? new ClientAuthentication(ClientAuthenticationStatus.Authenticated, caller, null)
            : new ClientAuthentication(ClientAuthenticationStatus.Forbidden, caller, "The Access Token does not allow incoming calls (grants.voice.incoming.allow).");
    }
}
