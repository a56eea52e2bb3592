using System.Net.WebSockets;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Opens and ends the sessions of this instance: an accepted connection joins the local registry and the store's
/// presence (so any instance routes to it), and leaves both when it is over. A new session beyond
/// <see cref="WebSocketSessionOptions.MaxSessionsPerIdentity"/> of its identity, on all instances together, ends the
/// oldest. The reading of what the client sends is the Api's (<c>WebSocketSessionLoop</c>).
/// </summary>
public sealed class WebSocketSessions(
    WebSocketSessionRegistry registry,
    ISessionPresence presence,
    ILiveSessionRegistry liveSessions,
    ISessionRelay relay,
    WebSocketSessionCloser closer,
    IOptions<WebSocketSessionOptions> options,
    TimeProvider time,
    ILogger<WebSocketSessions> logger) : IIdentitySessions, ILiveConnections
{
    async Task<ILiveConnection?> ILiveConnections.OpenAsync(WebSocket socket, WebSocketClaims claims, CancellationToken cancellationToken) =>
        await OpenAsync(socket, claims, cancellationToken) is { } session ? new LiveConnection(session, this, closer) : null;

    /// <summary>A session of this instance as the receive loop sees it.</summary>
    private sealed class LiveConnection(WebSocketSession session, WebSocketSessions sessions, WebSocketSessionCloser closer) : ILiveConnection
    {
        public string Id => session.Id;

        public DateTimeOffset? ExpiresAt => session.ExpiresAt;

        public string? EndReason => session.EndReason;

        public bool TryTakeSent(string twiMessageId) => session.TryTakeSent(twiMessageId);

        public Task EndAsync(string reason) => closer.EndAsync(session, reason);

        public Task LeaveAsync() => sessions.LeaveAsync(session);
    }

    /// <summary>How long the presence row's insert or removal may take.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The session of an accepted connection, in the registry and the store; null when the store did not take it
    /// (the client was told to come back, 1011).
    /// </summary>
    public async Task<WebSocketSession?> OpenAsync(WebSocket socket, WebSocketClaims claims, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var session = new WebSocketSession(
            Ids.New(Ids.SessionPrefix, now), claims.AccountSid.Value, claims.Identity.Value, socket, now, claims.ExpiresAt, claims.IssuedAt);
        registry.Add(session);
        if (!await TryRegisterAsync(session, cancellationToken))
        {
            session.Dispose();
            return null;
        }

        logger.LogInformation("WebSocket session {SessionId} connected for {AccountSid}/{Identity}", session.Id, session.AccountSid, session.Identity);
        await EnforceCapAsync(session, claims, cancellationToken);
        return session;
    }

    public async Task EndSignedOutAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset signedOutAt, CancellationToken cancellationToken)
    {
        // Out of the store first, for every instance: from now on no lookup finds them, whoever holds them.
        var live = await liveSessions.FindAsync(accountSid, identity, cancellationToken);
        await presence.ForgetConnectedByAsync(accountSid.Value, identity.Value, signedOutAt, cancellationToken);
        await EndLocalSignedOutAsync(accountSid.Value, identity.Value, signedOutAt);
        foreach (var remote in live.Where(s => registry.Get(s.SessionId) is null && s.ConnectedAt <= signedOutAt))
        {
            await relay.EndAsync(remote.SessionId, remote.InstanceId, SessionEndReasons.SignedOut, cancellationToken);
        }
    }

    /// <summary>Ends this instance's sessions of (account, identity) whose token was issued at or before <paramref name="signedOutAt"/>.</summary>
    internal async Task EndLocalSignedOutAsync(string accountSid, string identity, DateTimeOffset signedOutAt)
    {
        foreach (var session in registry.Of(accountSid, identity).Where(s => s.IssuedAt <= signedOutAt))
        {
            await closer.EndAsync(session, SessionEndReasons.SignedOut);
        }
    }

    /// <summary>The connection is over: the session leaves the store and the registry (if it has not already).</summary>
    public async Task LeaveAsync(WebSocketSession session)
    {
        await closer.LeaveAsync(session);
        session.Dispose();
        logger.LogInformation("WebSocket session {SessionId} closed", session.Id);
    }

    /// <summary>
    /// A session the other instances cannot see would miss their notifications: when the store does not take it,
    /// the client is told to come back (1011) rather than kept half-connected.
    /// </summary>
    private async Task<bool> TryRegisterAsync(WebSocketSession session, CancellationToken cancellationToken)
    {
        try
        {
            await presence.RegisterAsync(session, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "WebSocket session {SessionId} could not be registered in the store; closing it", session.Id);
            registry.Remove(session);
            session.TryLeave();
            try
            {
                using var timeout = new CancellationTokenSource(StoreTimeout);
                await session.CloseAsync(WebSocketCloseStatus.InternalServerError, "try again", timeout.Token);
            }
            catch (Exception closeError) when (closeError is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                session.Socket.Abort();
            }

            return false;
        }
    }

    /// <summary>
    /// The oldest sessions of the identity beyond the cap end (<c>session-cap</c>), wherever they are held: this
    /// instance's at once, another's through the relay. A store that cannot list them leaves the cap for the next
    /// connection to enforce; the new session stays.
    /// </summary>
    private async Task EnforceCapAsync(WebSocketSession session, WebSocketClaims claims, CancellationToken cancellationToken)
    {
        var cap = options.Value.MaxSessionsPerIdentity;
        IReadOnlyList<LiveSession> live;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StoreTimeout);
            live = await liveSessions.FindAsync(claims.AccountSid, claims.Identity, timeout.Token);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "The sessions of {AccountSid}/{Identity} could not be counted; the cap is checked at the next connection", session.AccountSid, session.Identity);
            return;
        }

        if (live.Count <= cap)
        {
            return;
        }

        var oldest = live
            .Where(s => s.SessionId != session.Id)
            .OrderBy(s => s.ConnectedAt)
            .ThenBy(s => s.SessionId, StringComparer.Ordinal)
            .Take(live.Count - cap);
        foreach (var old in oldest)
        {
            if (registry.Get(old.SessionId) is { } local)
            {
                await closer.EndAsync(local, SessionEndReasons.SessionCap);
            }
            else
            {
                await relay.EndAsync(old.SessionId, old.InstanceId, SessionEndReasons.SessionCap, cancellationToken);
            }
        }
    }
}
