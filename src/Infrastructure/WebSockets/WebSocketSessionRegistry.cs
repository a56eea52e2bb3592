using System.Collections.Concurrent;
using System.Collections.Immutable;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Domain.Common;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// The WebSocket sessions connected to this instance, indexed by id and by (account, identity). On SQLite (one
/// instance) it is also the <see cref="ILiveSessionRegistry"/>; on PostgreSQL the store's presence tables are.
/// </summary>
public sealed class WebSocketSessionRegistry : ILiveSessionRegistry
{
    private readonly ServiceInstance _instance;

    public WebSocketSessionRegistry(ServiceInstance instance, CallNotifyMetrics? metrics = null)
    {
        _instance = instance;
        metrics?.Meter.CreateObservableGauge(
            "callnotify.websocket.sessions", () => Count, "{session}", "Live WebSocket sessions connected to this instance.");
    }

    private readonly ConcurrentDictionary<string, WebSocketSession> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Account, string Identity), ImmutableArray<WebSocketSession>> _byClient = new();

    /// <summary>The sessions connected to this instance.</summary>
    public int Count => _byId.Count;

    public void Add(WebSocketSession session)
    {
        _byId[session.Id] = session;
        _byClient.AddOrUpdate(
            (session.AccountSid, session.Identity),
            static (_, s) => [s],
            static (_, existing, s) => existing.Add(s),
            session);
    }

    public void Remove(WebSocketSession session)
    {
        if (!_byId.TryRemove(session.Id, out _))
        {
            return;
        }

        var key = (session.AccountSid, session.Identity);
        while (_byClient.TryGetValue(key, out var existing))
        {
            var remaining = existing.Remove(session);
            var done = remaining.IsEmpty
                ? _byClient.TryRemove(new KeyValuePair<(string, string), ImmutableArray<WebSocketSession>>(key, existing))
                : _byClient.TryUpdate(key, remaining, existing);
            if (done)
            {
                return;
            }
        }
    }

    public WebSocketSession? Get(string sessionId) => _byId.GetValueOrDefault(sessionId);

    /// <summary>This instance's sessions of (account, identity).</summary>
    public IReadOnlyList<WebSocketSession> Of(string accountSid, string identity) =>
        _byClient.TryGetValue((accountSid, identity), out var sessions) ? sessions : [];

    public Task<IReadOnlyList<LiveSession>> FindAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<LiveSession>>(
            _byClient.TryGetValue((accountSid.Value, identity.Value), out var sessions)
                ? [.. sessions.Select(s => new LiveSession(s.Id, _instance.Id, s.AccountSid, s.Identity, s.ConnectedAt))]
                : []);

    public IReadOnlyCollection<WebSocketSession> All => [.. _byId.Values];
}
