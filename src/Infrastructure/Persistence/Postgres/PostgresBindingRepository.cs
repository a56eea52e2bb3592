using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Configurations;
using CallNotify.Infrastructure.Persistence.Repositories;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The binding store on PostgreSQL: the webhook's lookup is one plain Npgsql query and the last-delivery stamp rides the
/// group commit; registrations, admin reads and the sweeper's work are the EF Core repository's.
/// </summary>
internal sealed class PostgresBindingRepository(
    NpgsqlDataSource dataSource,
    GroupCommit groupCommit,
    BindingRepository entityFramework) : IBindingRepository
{
    private const string FindActiveSql = """
        SELECT id, account_sid, "identity", channel, address, environment, app_id, status, inactive_reason,
               created_at, updated_at, expires_at, last_delivery_at
        FROM bindings
        WHERE account_sid = $1 AND "identity" = $2 AND status = 'active' AND expires_at > $3
        ORDER BY id
        """;

    public Task<Binding?> GetAsync(string id, CancellationToken cancellationToken) =>
        entityFramework.GetAsync(id, cancellationToken);

    public Task<Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken) =>
        entityFramework.FindByAddressAsync(channel, address, cancellationToken);

    public async Task<IReadOnlyList<Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(FindActiveSql);
        AddFindActiveParameters(command.Parameters, accountSid, identity, now);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadBindingsAsync(reader, cancellationToken);
    }

    private static void AddFindActiveParameters(NpgsqlParameterCollection parameters, AccountSid accountSid, ClientIdentity identity, DateTimeOffset now)
    {
        parameters.Add(PgParameters.Text(accountSid.Value));
        parameters.Add(PgParameters.Text(identity.Value));
        parameters.Add(PgParameters.Time(now));
    }

    /// <summary>The rows of <see cref="FindActiveSql"/> from the reader's current result.</summary>
    private static async Task<IReadOnlyList<Binding>> ReadBindingsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            return [];
        }

        var bindings = new List<Binding>(1);
        do
        {
            bindings.Add(ReadBinding(reader, 0));
        }
        while (await reader.ReadAsync(cancellationToken));

        return bindings;
    }

    /// <summary>A binding from the reader's current row, its columns in <see cref="FindActiveSql"/>'s order from <paramref name="first"/>.</summary>
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
