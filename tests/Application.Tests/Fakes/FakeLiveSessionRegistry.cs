using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Tests.Fakes;

/// <summary>The WebSocket sessions "connected" right now: tests add and remove them.</summary>
public sealed class FakeLiveSessionRegistry : ILiveSessionRegistry
{
    private readonly Lock _gate = new();
    private readonly List<LiveSession> _sessions = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    public LiveSession Connect(AccountSid accountSid, ClientIdentity identity, DateTimeOffset connectedAt)
    {
        var session = new LiveSession(Ids.New(Ids.SessionPrefix, connectedAt), accountSid.Value, identity.Value, connectedAt);
        lock (_gate)
        {
            _sessions.Add(session);
        }

        return session;
    }

    public void Disconnect(string sessionId)
    {
        lock (_gate)
        {
            _sessions.RemoveAll(s => s.SessionId == sessionId);
        }
    }

    public IReadOnlyList<LiveSession> Find(AccountSid accountSid, ClientIdentity identity)
    {
        lock (_gate)
        {
            return [.. _sessions.Where(s => s.AccountSid == accountSid.Value && s.Identity == identity.Value)];
        }
    }
}
