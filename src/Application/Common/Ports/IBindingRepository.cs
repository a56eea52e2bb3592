using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// The binding store, EF Core on both stores (the webhook's lookup and the delivery stamp are the
/// <see cref="INotificationStore"/>'s). Every method is its own unit of work, safe to call from any thread.
/// </summary>
public interface IBindingRepository
{
    Task<Binding?> GetAsync(string id, CancellationToken cancellationToken);

    Task<Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken);

    /// <summary>The bindings the webhook notifies: same account and identity, active, not expired at <paramref name="now"/>.</summary>
    Task<IReadOnlyList<Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Bindings in id order after <see cref="BindingQuery.AfterId"/>.</summary>
    Task<IReadOnlyList<Binding>> ListAsync(BindingQuery query, CancellationToken cancellationToken);

    /// <summary>Inserts a new binding. Throws <see cref="Exceptions.ConflictException"/> when its (channel, address) is taken.</summary>
    Task AddAsync(Binding binding, CancellationToken cancellationToken);

    /// <summary>Loads the binding, applies <paramref name="change"/> and saves when it says something changed. Null when absent.</summary>
    Task<Binding?> UpdateAsync(string id, Func<Binding, bool> change, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    Task<int> DeleteAllAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken);

    /// <summary>At most <paramref name="limit"/> (account, identity) pairs with more than <paramref name="max"/> active bindings.</summary>
    Task<IReadOnlyList<(AccountSid AccountSid, ClientIdentity Identity)>> FindCrowdedIdentitiesAsync(int max, int limit, CancellationToken cancellationToken);

    /// <summary>Ids of at most <paramref name="limit"/> bindings still active whose TTL ended by <paramref name="now"/>.</summary>
    Task<IReadOnlyList<string>> FindExpiredActiveAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);
}

public sealed record BindingQuery(
    AccountSid? AccountSid,
    ClientIdentity? Identity,
    ChannelKind? Channel,
    BindingStatus? Status,
    string? AfterId,
    int Limit);
