using System.Diagnostics;
using System.Threading.Channels;
using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Presence;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// The webhook's lookup on PostgreSQL, grouped: the lookups of concurrent webhooks are answered together by one round
/// trip of two statements (every asked callee's active bindings, every asked callee's live sessions), the read-side
/// twin of <see cref="GroupCommit"/>. Each lookup is still read after it was asked, so it sees every change committed
/// before its webhook arrived. See docs/decisions/0013.
/// </summary>
internal sealed class PostgresCalleeLookup : IAsyncDisposable
{
    /// <summary>The most callees one round trip asks for.</summary>
    internal const int MaxBatch = 64;

    /// <summary>Round trips in flight at once: one reads while the next batch fills.</summary>
    internal const int Readers = 2;

    // Each callee's rows are read by a lateral index scan of its own (CalleeSql), so the statement costs the same
    // whatever plan PostgreSQL keeps for it: a generic plan of a plain join does not know the arrays' sizes and may
    // hash-join a sequential scan of the whole table instead (BatchPlanTests).
    private static readonly string BindingsSql = $"SELECT k.position, {StoreColumns.Qualified(StoreColumns.Binding, "b")}" + $"""

        FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS k(account_sid, "identity", now, position)
        CROSS JOIN LATERAL ({CalleeSql.ActiveBindings("k", "k.now")}) AS b
        ORDER BY k.position, b.id
        """;

    private static readonly string SessionsSql = $"SELECT k.position, {StoreColumns.Qualified(StoreColumns.Session, "s")}" + $"""

        FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(account_sid, "identity", position)
        CROSS JOIN LATERAL ({CalleeSql.FreshSessions("k")}) AS s
        ORDER BY k.position, s.id
        """;

    private static readonly string QueryText = BindingsSql + ";\n" + SessionsSql;

    // The binding lookup runs on the generic plan its data source keeps (ADR 0029); the session lookup is left to
    // PostgreSQL's own choice. A generic plan of it made while live_sessions was small went on scanning the whole table
    // for each callee once it had grown (2.9 ms a run with 1,000 sessions, against 0.7 ms). The setting is restored at
    // the end of the round trip, and a round trip that fails rolls it back with its implicit transaction.
    private const string SessionsPlanMode = "SET plan_cache_mode TO auto";

    private const string RestorePlanMode = "RESET plan_cache_mode";

    /// <summary>Lookups waiting for a reader, at most: beyond it a lookup is refused at once (<see cref="StoreUnavailableException"/>).</summary>
    internal const int MaxQueued = 16 * MaxBatch;

    private static readonly string QueueFull = $"The store's lookup queue is full ({MaxQueued} lookups waiting).";

    private readonly NpgsqlDataSource _dataSource;
    private readonly Channel<PendingLookup> _queue = Channel.CreateBounded<PendingLookup>(
        new BoundedChannelOptions(MaxQueued) { SingleReader = false, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });

    private volatile bool _disposed;

    private readonly Task[] _readers;

    private readonly StoreMetrics? _metrics;

    public PostgresCalleeLookup([FromKeyedServices(DependencyInjection.BatchedStatements)] NpgsqlDataSource dataSource, StoreMetrics? metrics = null)
    {
        _dataSource = dataSource;
        _metrics = metrics;
        _readers = BatchLoop.Start(_queue.Reader, Readers, MaxBatch, AnswerAsync);
    }

    public async Task<CalleeClients> FindAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The shared round trip runs outside the caller's trace; this span stands for the caller's lookup in it.
        using var span = BatchLoop.StartCallerSpan("store lookup", "select bindings, live_sessions", QueryText);

        ObjectDisposedException.ThrowIf(_disposed, this);
        var queuedAt = Stopwatch.GetTimestamp();
        var pending = new PendingLookup(accountSid.Value, identity.Value, now.ToUniversalTime());
        var clients = await BatchItem<CalleeClients>.SubmitAsync(_queue.Writer, pending, QueueFull, cancellationToken);
        _metrics?.Waited(StoreMetrics.Lookup, queuedAt);
        span?.SetTag("callnotify.lookup.batch_size", pending.BatchSize);
        return clients;
    }

    private async Task AnswerAsync(List<PendingLookup> lookups)
    {
        try
        {
            var startedAt = Stopwatch.GetTimestamp();
            await ReadAsync(lookups).ConfigureAwait(false);
            _metrics?.RoundTrip(StoreMetrics.Lookup, startedAt);
            foreach (var lookup in lookups)
            {
                lookup.Complete(lookups.Count);
            }
        }
        catch (Exception ex)
        {
            foreach (var lookup in lookups)
            {
                lookup.Fail(ex);
            }
        }
    }

    private async Task ReadAsync(List<PendingLookup> lookups)
    {
        await using var batch = _dataSource.CreateBatch();
        var (bindings, sessions) = Statements([.. lookups.Select(l => (l.AccountSid, l.Identity, l.Now))]);
        batch.BatchCommands.Add(bindings);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(SessionsPlanMode));
        batch.BatchCommands.Add(sessions);
        batch.BatchCommands.Add(new NpgsqlBatchCommand(RestorePlanMode));

        await using var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            lookups[PositionOf(reader)].Bindings.Add(StoreColumns.ReadBinding(reader, 1));
        }

        // Past the setting's empty result to the sessions'.
        do
        {
            if (!await reader.NextResultAsync().ConfigureAwait(false))
            {
                throw new InvalidOperationException("The callee lookup returned no session rows.");
            }
        }
        while (reader.FieldCount == 0);

        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            lookups[PositionOf(reader)].Sessions.Add(StoreColumns.ReadSession(reader, 1));
        }

        // Reading to the end surfaces an error of the last statement before anyone is answered.
        while (await reader.NextResultAsync().ConfigureAwait(false))
        {
        }
    }

    /// <summary>The round trip's two statements for these callees, in their order.</summary>
    internal static (NpgsqlBatchCommand Bindings, NpgsqlBatchCommand Sessions) Statements(
        IReadOnlyList<(string AccountSid, string Identity, DateTimeOffset Now)> callees)
    {
        var bindings = new NpgsqlBatchCommand(BindingsSql);
        bindings.Parameters.Add(PgParameters.TextArray([.. callees.Select(c => c.AccountSid)]));
        bindings.Parameters.Add(PgParameters.TextArray([.. callees.Select(c => c.Identity)]));
        bindings.Parameters.Add(PgParameters.TimeArray([.. callees.Select(c => (DateTimeOffset?)c.Now)]));
        var sessions = new NpgsqlBatchCommand(SessionsSql);
        sessions.Parameters.Add(new NpgsqlParameter<double> { TypedValue = PresenceTimings.Freshness.TotalSeconds });
        sessions.Parameters.Add(PgParameters.TextArray([.. callees.Select(c => c.AccountSid)]));
        sessions.Parameters.Add(PgParameters.TextArray([.. callees.Select(c => c.Identity)]));
        return (bindings, sessions);
    }

    private static int PositionOf(NpgsqlDataReader reader) => checked((int)reader.GetInt64(0)) - 1;

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        await Task.WhenAll(_readers).ConfigureAwait(false);
    }

    private sealed class PendingLookup(string accountSid, string identity, DateTimeOffset now) : BatchItem<CalleeClients>
    {
        public string AccountSid { get; } = accountSid;

        public string Identity { get; } = identity;

        public DateTimeOffset Now { get; } = now;

        public List<Binding> Bindings { get; } = [];

        public List<LiveSession> Sessions { get; } = [];

        protected override CalleeClients Result => new(Bindings, Sessions);
    }
}
