using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Configurations;
using CallNotify.Infrastructure.Persistence.Repositories;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The binding store on PostgreSQL: the last-delivery stamp rides the group commit; registrations, admin reads and the
/// sweeper's work are the EF Core repository's. The webhook's lookup is <see cref="PostgresCalleeLookup"/>'s, which reads
/// its rows with <see cref="ReadBinding"/>.
/// </summary>
internal sealed class PostgresBindingRepository(
    GroupCommit groupCommit,
    BindingRepository entityFramework) : IBindingRepository
{
    public Task<Binding?> GetAsync(string id, CancellationToken cancellationToken) =>
        entityFramework.GetAsync(id, cancellationToken);

    public Task<Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken) =>
        entityFramework.FindByAddressAsync(channel, address, cancellationToken);

    public Task<IReadOnlyList<Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) =>
        entityFramework.FindActiveAsync(accountSid, identity, now, cancellationToken);

    /// <summary>A binding from the reader's current row, its columns from <paramref name="first"/> in the table's order (id, account_sid, identity, channel, address, environment, app_id, status, inactive_reason, created_at, updated_at, expires_at, last_delivery_at).</summary>
    internal static Binding ReadBinding(NpgsqlDataReader reader, int first) => Binding.Restore(
        reader.GetString(first),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        Converters.ParseChannel(reader.GetString(first + 3)),
        reader.GetString(first + 4),
        ApnsEnvironments.Parse(reader.GetString(first + 5)),
        reader.IsDBNull(first + 6) ? null : reader.GetString(first + 6),
        reader.GetString(first + 7) == "active" ? BindingStatus.Active : BindingStatus.Inactive,
        reader.IsDBNull(first + 8) ? null : reader.GetString(first + 8),
        reader.GetFieldValue<DateTimeOffset>(first + 9),
        reader.GetFieldValue<DateTimeOffset>(first + 10),
        reader.GetFieldValue<DateTimeOffset>(first + 11),
        reader.IsDBNull(first + 12) ? null : reader.GetFieldValue<DateTimeOffset>(first + 12));

    public Task<IReadOnlyList<Binding>> ListAsync(BindingQuery query, CancellationToken cancellationToken) =>
        entityFramework.ListAsync(query, cancellationToken);

    public Task AddAsync(Binding binding, CancellationToken cancellationToken) =>
        entityFramework.AddAsync(binding, cancellationToken);

    public Task<Binding?> UpdateAsync(string id, Func<Binding, bool> change, CancellationToken cancellationToken) =>
        entityFramework.UpdateAsync(id, change, cancellationToken);

    public async Task RecordDeliveryAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await groupCommit.WriteAsync(new BindingDeliveryStamp(id, at), cancellationToken);
    }

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        entityFramework.DeleteAsync(id, cancellationToken);

    public Task<int> DeleteAllAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken) =>
        entityFramework.DeleteAllAsync(accountSid, identity, cancellationToken);

    public Task<IReadOnlyList<(string AccountSid, string Identity)>> FindCrowdedIdentitiesAsync(int max, int limit, CancellationToken cancellationToken) =>
        entityFramework.FindCrowdedIdentitiesAsync(max, limit, cancellationToken);

    public Task<IReadOnlyList<string>> FindExpiredActiveAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        entityFramework.FindExpiredActiveAsync(now, limit, cancellationToken);
}
