using System.Diagnostics;
using System.Threading.Channels;
using CallNotify.Application.Common.Telemetry;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>
/// Group commit: writes queued by concurrent requests share one transaction, so one WAL flush makes many of them
/// durable. Each caller's statement runs in the next batch and its task completes only after that batch committed
/// (with the statement's row count), or fails with the store's exception. See docs/decisions/0012.
/// </summary>
/// <remarks>
/// A statement that fails on its own (not the connection) would abort its whole batch; the batch is then replayed one
/// statement per transaction so only the faulty one fails. Statements must therefore be safe to run again after a
/// rollback, which every statement of a rolled-back transaction is.
/// </remarks>
public sealed class GroupCommit : IAsyncDisposable
{
    /// <summary>The most statements one transaction carries.</summary>
    internal const int MaxBatch = 128;

    /// <summary>Transactions in flight at once: one commits while the next batch fills.</summary>
    internal const int Writers = 2;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<GroupCommit> _logger;
    private readonly CallNotifyMetrics? _metrics;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    private readonly Task[] _writers;

    public GroupCommit(NpgsqlDataSource dataSource, ILogger<GroupCommit> logger, CallNotifyMetrics? metrics = null)
    {
        _dataSource = dataSource;
        _logger = logger;
        _metrics = metrics;
        _writers = [.. Enumerable.Range(0, Writers).Select(_ => Task.Run(RunAsync))];
    }

    /// <summary>
    /// Runs <paramref name="command"/> in the next shared transaction; completes with its row count once committed.
    /// Cancelling stops the wait, not the write.
    /// </summary>
    public async Task<int> ExecuteAsync(NpgsqlBatchCommand command, CancellationToken cancellationToken)
    {
        // The shared batch runs outside the caller's trace; this span stands for the caller's write in it.
        using var span = CallNotifyMetrics.Tracing.StartActivity("store write", ActivityKind.Client);
        span?.SetTag("db.system.name", "postgresql");
        span?.SetTag("db.query.text", command.CommandText);

        var pending = new PendingWrite(command);
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        var affected = cancellationToken.CanBeCanceled ? await pending.Task.WaitAsync(cancellationToken) : await pending.Task;
        span?.SetTag("callnotify.group_commit.size", pending.BatchSize);
        return affected;
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> writes)
    {
        try
        {
            await ExecuteBatchAsync(writes).ConfigureAwait(false);
            _metrics?.GroupCommitted(writes.Count);
            foreach (var write in writes)
            {
                write.BatchSize = writes.Count;
                write.Complete();
            }
        }
        catch (PostgresException ex) when (writes.Count > 1 && !IsConnectionLevel(ex))
        {
            // One statement broke the batch: replay them one by one so only that one fails.
            _logger.LogWarning(ex, "A group commit of {Count} writes failed ({SqlState}); replaying them one by one", writes.Count, ex.SqlState);
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
    /// Sends every statement in one batch without an explicit transaction: PostgreSQL runs the messages up to the batch's
    /// single Sync as one implicit transaction, committed (one WAL flush) when the last statement succeeds and rolled
    /// back entirely when any fails. One round trip per batch.
    /// </summary>
    private async Task ExecuteBatchAsync(List<PendingWrite> writes)
    {
        await using var connection = await _dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        try
        {
            foreach (var write in writes)
            {
                batch.BatchCommands.Add(write.Command);
            }

            await batch.ExecuteNonQueryAsync().ConfigureAwait(false);
            foreach (var write in writes)
            {
                write.RecordsAffected = write.Command.RecordsAffected;
            }
        }
        finally
        {
            // The commands may run again in another batch.
            batch.BatchCommands.Clear();
        }
    }

    /// <summary>Errors of the session or server rather than of one statement: replaying would only fail again.</summary>
    private static bool IsConnectionLevel(PostgresException ex) =>
        ex.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
        || ex.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources
        || ex.SqlState.StartsWith("57", StringComparison.Ordinal); // operator intervention (shutdown, terminated)

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers).ConfigureAwait(false);
    }

    private sealed class PendingWrite(NpgsqlBatchCommand command)
    {
        private readonly TaskCompletionSource<int> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NpgsqlBatchCommand Command { get; } = command;

        public int RecordsAffected { get; set; }

        public int BatchSize { get; set; }

        public Task<int> Task => _done.Task;

        public void Complete() => _done.TrySetResult(RecordsAffected);

        public void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
