using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>Everyone a call notification goes to: the callee's usable bindings and live sessions, found together.</summary>
public interface ICalleeLookup
{
    Task<CalleeClients> FindAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <param name="Bindings">Active, unexpired bindings of the callee (<see cref="IBindingRepository.FindActiveAsync"/>).</param>
/// <param name="Sessions">Live sessions of the callee on any instance (<see cref="ILiveSessionRegistry.FindAsync"/>).</param>
public sealed record CalleeClients(IReadOnlyList<Binding> Bindings, IReadOnlyList<LiveSession> Sessions);

/// <summary>The lookup as its two parts: the binding store, then the session registry.</summary>
public sealed class CalleeLookup(IBindingRepository bindings, ILiveSessionRegistry sessions) : ICalleeLookup
{
    public async Task<CalleeClients> FindAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
        new(await bindings.FindActiveAsync(accountSid, identity, now, cancellationToken),
            await sessions.FindAsync(accountSid, identity, cancellationToken));
}
