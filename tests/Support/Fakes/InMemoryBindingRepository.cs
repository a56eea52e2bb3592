using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Tests.Fakes;

/// <summary>The binding store in memory: (channel, address) is unique, and every read is a detached copy.</summary>
public sealed class InMemoryBindingRepository : IBindingRepository
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Binding> _rows = new(StringComparer.Ordinal);

    /// <summary>Copies of every stored binding, in id order.</summary>
    public IReadOnlyList<Binding> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _rows.Values.OrderBy(b => b.Id, StringComparer.Ordinal).Select(Snapshot.Of)];
            }
        }
    }

    /// <summary>The stored state of one binding (a copy), or null.</summary>
    public Binding? this[string id]
    {
        get
        {
            lock (_gate)
            {
                return _rows.TryGetValue(id, out var row) ? Snapshot.Of(row) : null;
            }
        }
    }

    public Task<Binding?> GetAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(this[id]);
    }

    public Task<Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var row = _rows.Values.FirstOrDefault(b => b.Channel == channel && b.Address.Value == address);
            return Task.FromResult(row is null ? null : Snapshot.Of(row));
        }
    }

    public Task<IReadOnlyList<Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<Binding> found =
            [
                .. _rows.Values
                    .Where(b => b.ServesCalleeAt(accountSid, identity, now))
                    .OrderBy(b => b.Id, StringComparer.Ordinal)
                    .Select(Snapshot.Of),
            ];
            return Task.FromResult(found);
        }
    }

    public Task<IReadOnlyList<Binding>> ListAsync(BindingQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<Binding> found =
            [
                .. _rows.Values
                    .Where(b => query.AccountSid is null || b.AccountSid == query.AccountSid)
                    .Where(b => query.Identity is null || b.Identity == query.Identity)
                    .Where(b => query.Channel is null || b.Channel == query.Channel)
                    .Where(b => query.Status is null || b.Status == query.Status)
                    .Where(b => query.AfterId is null || string.CompareOrdinal(b.Id, query.AfterId) > 0)
                    .OrderBy(b => b.Id, StringComparer.Ordinal)
                    .Take(query.Limit)
                    .Select(Snapshot.Of),
            ];
            return Task.FromResult(found);
        }
    }

    public Task AddAsync(Binding binding, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_rows.ContainsKey(binding.Id) || _rows.Values.Any(b => b.Channel == binding.Channel && b.Address == binding.Address))
            {
                throw new ConflictException("A binding for this channel and address already exists.");
            }

            _rows.Add(binding.Id, Snapshot.Of(binding));
        }

        return Task.CompletedTask;
    }

    public Task<Binding?> UpdateAsync(string id, Func<Binding, bool> change, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_rows.TryGetValue(id, out var row))
            {
                return Task.FromResult<Binding?>(null);
            }

            var working = Snapshot.Of(row);
            if (change(working))
            {
                _rows[id] = Snapshot.Of(working);
            }

            return Task.FromResult<Binding?>(working);
        }
    }

    /// <summary>What the notification store's delivery stamp does to a binding (<see cref="InMemoryNotificationRepository"/>).</summary>
    public Task RecordDeliveryAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateAsync(id, b => { b.RecordDelivery(at); return true; }, cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(_rows.Remove(id));
        }
    }

    public Task<int> DeleteAllAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var ids = _rows.Values.Where(b => b.AccountSid == accountSid && b.Identity == identity).Select(b => b.Id).ToList();
            foreach (var id in ids)
            {
                _rows.Remove(id);
            }

            return Task.FromResult(ids.Count);
        }
    }

    public Task<IReadOnlyList<string>> FindExpiredActiveAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<string> found =
            [
                .. _rows.Values
                    .Where(b => b.Status == BindingStatus.Active && b.ExpiresAt <= now)
                    .Select(b => b.Id)
                    .Order(StringComparer.Ordinal)
                    .Take(limit),
            ];
            return Task.FromResult(found);
        }
    }

    public Task<IReadOnlyList<(AccountSid AccountSid, ClientIdentity Identity)>> FindCrowdedIdentitiesAsync(int max, int limit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            IReadOnlyList<(AccountSid, ClientIdentity)> found =
            [
                .. _rows.Values
                    .Where(b => b.Status == BindingStatus.Active)
                    .GroupBy(b => (b.AccountSid, b.Identity))
                    .Where(g => g.Count() > max)
                    .Select(g => g.Key)
                    .Take(limit),
            ];
            return Task.FromResult(found);
        }
    }
}
