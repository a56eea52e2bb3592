using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.WebSockets.Instances;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>The webhook's lookup on PostgreSQL: the callee's bindings and live sessions in one round trip.</summary>
internal sealed class PostgresCalleeLookup(NpgsqlDataSource dataSource) : ICalleeLookup
{
    public async Task<CalleeClients> FindAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        var bindings = new NpgsqlBatchCommand(PostgresBindingRepository.FindActiveSql);
        PostgresBindingRepository.AddFindActiveParameters(bindings.Parameters, accountSid, identity, now);
        var sessions = new NpgsqlBatchCommand(PostgresPresence.FindSql);
        PostgresPresence.AddFindParameters(sessions.Parameters, accountSid, identity);
        batch.BatchCommands.Add(bindings);
        batch.BatchCommands.Add(sessions);

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var active = await PostgresBindingRepository.ReadBindingsAsync(reader, cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var live = await PostgresPresence.ReadSessionsAsync(reader, cancellationToken);
        return new CalleeClients(active, live);
    }
}
