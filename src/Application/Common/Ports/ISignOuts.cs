using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// When each identity was last signed out everywhere (<c>DELETE /admin/v1/bindings?accountSid=&amp;identity=</c>): a
/// WebSocket token issued at or before that moment is refused, and a session connected with one is ended.
/// </summary>
public interface ISignOuts
{
    /// <summary>Records a sign-out of (account, identity) at <paramref name="at"/>; a later one replaces an earlier one.</summary>
    Task RecordAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The last sign-out of (account, identity), or null when it never was signed out.</summary>
    Task<DateTimeOffset?> LastAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken);

    /// <summary>The one rule of a token and a sign-out: a token issued at or before the identity's last sign-out is void.</summary>
    async Task<bool> VoidsAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset issuedAt, CancellationToken cancellationToken) =>
        await LastAsync(accountSid, identity, cancellationToken) >= issuedAt;

    /// <summary>The sign-outs recorded at or after <paramref name="since"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SignOut>> SinceAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);
}

public sealed record SignOut(string AccountSid, string Identity, DateTimeOffset At);

/// <summary>The live sessions of one identity, wherever they are held.</summary>
public interface IIdentitySessions
{
    /// <summary>
    /// Ends every live session of (account, identity) connected with a token issued at or before
    /// <paramref name="signedOutAt"/>: they stop counting at once; this instance's are closed (1008 <c>signed-out</c>)
    /// at once, other instances' within seconds.
    /// </summary>
    Task EndSignedOutAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset signedOutAt, CancellationToken cancellationToken);
}
