using System.Diagnostics;
using System.Threading.Channels;
using CallNotify.Application.Common.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// Group commit: writes queued by concurrent requests share one transaction, so one WAL flush makes many of them
/// durable, and the writes of one kind share one multi-row statement (<see cref="GroupWriteKind"/>). Each caller's
/// write runs in the next batch and its task completes only after that batch committed (with whether the write was
/// applied), or fails with the store's exception. See docs/decisions/0012 and 0013.
/// </summary>
/// <remarks>
/// A write that fails on its own (not the connection: a constraint, or a value that cannot be encoded or bound) would
/// abort its whole batch; the batch is then replayed one write per transaction so only the faulty one fails. Writes must therefore be safe to run again after a rollback,
/// which every statement of a rolled-back transaction is.
/// </remarks>
public sealed class GroupCommit : IAsyncDisposable
{
    /// <summary>The most writes one transaction carries.</summary>
    public const int MaxBatch = 256;

    /// <summary>
    /// Transactions in flight at once for the writes an answer waits for: while one waits for its WAL flush, the next
    /// fills and is sent. Four (ADR 0013) made batches of about seven records; with the delivery events in their own
    /// writer (<see cref="Linger"/>) two make them twice as large for less of PostgreSQL's CPU (ADR 0021).
    /// </summary>
    public const int Writers = 2;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<GroupCommit> _logger;
    private readonly StoreMetrics? _metrics;
    /// <summary>
    /// Writes waiting for a writer, at most: beyond it (the database has stopped answering) a write is refused at once
    /// with <see cref="StoreUnavailableException"/> instead of queueing behind the others.
    /// </summary>
    public const int MaxQueued = 4 * MaxBatch;

    private static readonly string QueueFull = $"The store's write queue is full ({MaxQueued} writes waiting).";

    /// <summary>
    /// How long the writes that may wait (<see cref="GroupWriteKind.MayWait"/>) gather before their transaction: nobody's
    /// answer waits for them, and under load a few milliseconds make one transaction of tens of them instead of one
    /// each (ADR 0021). They have a writer of their own, so they never delay a write an answer waits for.
    /// </summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(5);

    private readonly Channel<PendingWrite> _queue = NewQueue();
    private readonly Channel<PendingWrite> _waitingQueue = NewQueue();

    private volatile bool _disposed;

    private readonly Task[] _writers;

    public GroupCommit(
        [FromKeyedServices(DependencyInjection.BatchedStatements)] NpgsqlDataSource dataSource,
        ILogger<GroupCommit> logger,
        StoreMetrics? metrics = null)
        : this(dataSource, logger, metrics, TimeProvider.System)
    {
    }

    /// <param name="time">
    /// The clock of the linger. Always the real one in the service: the linger is about real time, and a clock faked
    /// for the service's rules (a test's) must not hold the writes back. A test of the linger itself passes its own.
    /// </param>
    internal GroupCommit(NpgsqlDataSource dataSource, ILogger<GroupCommit> logger, StoreMetrics? metrics, TimeProvider time)
    {
        _dataSource = dataSource;
        _logger = logger;
        _metrics = metrics;
        _writers =
        [
            .. BatchLoop.Start(_queue.Reader, Writers, MaxBatch, CommitAsync),
            .. BatchLoop.Start(_waitingQueue.Reader, 1, MaxBatch, CommitAsync, Linger, time),
        ];
    }

    private static Channel<PendingWrite> NewQueue() => Channel.CreateBounded<PendingWrite>(
        new BoundedChannelOptions(MaxQueued) { SingleReader = false, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>
    /// Runs <paramref name="write"/> in the next shared transaction; completes once committed with whether the write
    /// was applied (see <see cref="GroupWriteKind.Build"/>). Cancelling stops the wait, not the write.
    /// </summary>
    public async Task<bool> WriteAsync(GroupWrite write, CancellationToken cancellationToken)
    {
        // The shared batch runs outside the caller's trace; this span stands for the caller's write in it.
        using var span = BatchLoop.StartCallerSpan("store write", write.Kind.Name, write.Kind.QueryText);

        ObjectDisposedException.ThrowIf(_disposed, this);
        var queuedAt = Stopwatch.GetTimestamp();
        var pending = new PendingWrite(write);
        var applied = await BatchItem<bool>.SubmitAsync(
            (write.Kind.MayWait ? _waitingQueue : _queue).Writer, pending, QueueFull, cancellationToken);
        _metrics?.Waited(LaneOf(write.Kind), queuedAt);
        span?.SetTag("callnotify.group_commit.size", pending.BatchSize);
        return applied;
    }

    private static string LaneOf(GroupWriteKind kind) => kind.MayWait ? StoreMetrics.Append : StoreMetrics.Write;

    private async Task CommitAsync(List<PendingWrite> writes)
    {
        try
        {
            var startedAt = Stopwatch.GetTimestamp();
            await ExecuteBatchAsync(writes).ConfigureAwait(false);
            _metrics?.RoundTrip(LaneOf(writes[0].Write.Kind), startedAt);
            _metrics?.GroupCommitted(writes.Count);
            foreach (var write in writes)
            {
                write.Complete(writes.Count);
            }
        }
        catch (Exception ex) when (writes.Count > 1 && !IsConnectionLevel(ex))
        {
            // One write broke the batch, on the server (a constraint) or before it was sent (a value that cannot be
            // encoded or bound): replay them one by one so only that one fails.
            _logger.LogWarning(
                ex, "A group commit of {Count} writes failed ({Error}); replaying them one by one", writes.Count, (ex as PostgresException)?.SqlState ?? ex.GetType().Name);
            foreach (var write in writes)
            {
                await CommitAsync([write]).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            foreach (var write in writes)
            {
                write.Fail(ex);
            }
        }
    }

    /// <summary>
    /// Sends one multi-row statement per kind of write, all in one batch without an explicit transaction: PostgreSQL
    /// runs the messages up to the batch's single Sync as one implicit transaction, committed (one WAL flush) when the
    /// last statement succeeds and rolled back entirely when any fails. One round trip per batch.
    /// </summary>
    private async Task ExecuteBatchAsync(List<PendingWrite> writes)
    {
        // Kinds in the order their first write was queued; writes of a kind in queue order.
        var groups = new List<(GroupWriteKind Kind, List<PendingWrite> Writes)>(2);
        foreach (var write in writes)
        {
            write.Applied = false;
            write.Write.Reset();
            var index = groups.FindIndex(g => ReferenceEquals(g.Kind, write.Write.Kind));
            if (index < 0)
            {
                groups.Add((write.Write.Kind, [write]));
            }
            else
            {
                groups[index].Writes.Add(write);
            }
        }

        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var (kind, group) in groups)
        {
            batch.BatchCommands.Add(kind.Build([.. group.Select(w => w.Write)]));
        }

        await using var reader = await batch.ExecuteReaderAsync().ConfigureAwait(false);
        foreach (var (kind, group) in groups)
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var write = group[checked((int)reader.GetInt64(0)) - 1];
                write.Applied |= kind.ReadRow(reader, write.Write);
            }

            // Moving past the last result reads the batch's commit: an error in it surfaces here, before anyone is
            // answered.
            await reader.NextResultAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Failures of the connection or the server rather than of one write (replaying would only fail again): the
    /// connection's state classes, and every Npgsql or timeout error that is not a statement's own. Anything else (a
    /// constraint, a value Npgsql could not encode or bind) is one write's fault.
    /// </summary>
    internal static bool IsConnectionLevel(Exception ex) => ex switch
    {
        PostgresException pg =>
            pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
            || pg.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources
            || pg.SqlState.StartsWith("57", StringComparison.Ordinal), // operator intervention (shutdown, terminated)
        NpgsqlException or TimeoutException or OperationCanceledException or ObjectDisposedException => true,
        _ => false,
    };

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        _waitingQueue.Writer.TryComplete();
        await Task.WhenAll(_writers).ConfigureAwait(false);
    }

    private sealed class PendingWrite(GroupWrite write) : BatchItem<bool>
    {
        public GroupWrite Write { get; } = write;

        public bool Applied { get; set; }

        protected override bool Result => Applied;
    }
}
