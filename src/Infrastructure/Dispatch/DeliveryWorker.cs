using System.Threading.Channels;
using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Dispatch;

/// <summary>
/// The hosted worker that carries out deliveries (<see cref="DeliveryRunner"/>), and the bounded queue that feeds it
/// (<see cref="IDeliveryJobs"/>). A job starts at once, on the enqueuing thread up to its first wait as a webhook's
/// deliveries always did, while fewer than <see cref="MaxRunning"/> run; beyond that it waits in the queue (at most
/// <see cref="Capacity"/>) for a running one to end, and a full queue refuses at once. On shutdown the running jobs are
/// cancelled, which leaves their deliveries pending on record, and waited for.
/// </summary>
public sealed class DeliveryWorker : IHostedService, IDeliveryJobs, IDisposable
{
    /// <summary>Deliveries in progress at once (a retry waiting for its backoff counts).</summary>
    public const int MaxRunning = 4096;

    /// <summary>Deliveries waiting for a free place, at most.</summary>
    public const int Capacity = 10_000;

    private readonly DeliveryRunner _runner;
    private readonly ILogger<DeliveryWorker> _logger;
    private readonly int _maxRunning;
    private readonly Channel<DeliveryJob> _waiting;

    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;

    public DeliveryWorker(DeliveryRunner runner, ILogger<DeliveryWorker> logger)
        : this(runner, logger, MaxRunning, Capacity)
    {
    }

    /// <summary>With other limits, for tests.</summary>
    internal DeliveryWorker(DeliveryRunner runner, ILogger<DeliveryWorker> logger, int maxRunning, int capacity)
    {
        _stoppingToken = _stopping.Token;
        _runner = runner;
        _logger = logger;
        _maxRunning = maxRunning;
        _waiting = Channel.CreateBounded<DeliveryJob>(
            new BoundedChannelOptions(capacity) { SingleReader = false, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });
    }
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _running = [];
    private int _count;

    /// <summary>Jobs running now.</summary>
    public int Running => Volatile.Read(ref _count);

    public bool TryEnqueue(DeliveryJob job)
    {
        if (_stoppingToken.IsCancellationRequested)
        {
            return false;
        }

        if (TryTakePlace())
        {
            Start(job);
            return true;
        }

        if (!_waiting.Writer.TryWrite(job))
        {
            return false;
        }

        // Every running job may have ended meanwhile, with nobody left to start this one.
        StartWaiting();
        return true;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Cancels the running deliveries (they stay pending on record) and waits for them, as long as the host lets it.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_stoppingToken.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        _waiting.Writer.TryComplete();
        Task[] left;
        lock (_gate)
        {
            left = [.. _running];
        }

        await Task.WhenAll(left).WaitAsync(cancellationToken);
    }

    /// <summary>Stops what still runs (a host disposed without being stopped); <see cref="StopAsync"/> may still follow.</summary>
    public void Dispose()
    {
        if (!_stoppingToken.IsCancellationRequested)
        {
            _stopping.Cancel();
        }

        _stopping.Dispose();
    }

    private bool TryTakePlace()
    {
        if (Interlocked.Increment(ref _count) <= _maxRunning)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    private void Start(DeliveryJob job)
    {
        Task task;
        try
        {
            task = _runner.RunAsync(job, _stoppingToken);
        }
        catch (Exception ex)
        {
            // RunAsync catches everything it awaits; this is only for what it throws before its first wait.
            _logger.LogError(ex, "Delivery {DeliveryId} failed to start", job.Delivery.Id);
            task = Task.CompletedTask;
        }

        lock (_gate)
        {
            if (!task.IsCompleted)
            {
                _running.Add(task);
            }
        }

        _ = task.ContinueWith(Ended, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>A job ended: its place goes to the longest-waiting job, if any.</summary>
    private void Ended(Task task)
    {
        lock (_gate)
        {
            _running.Remove(task);
        }

        Interlocked.Decrement(ref _count);
        StartWaiting();
    }

    /// <summary>Starts waiting jobs while there are free places.</summary>
    private void StartWaiting()
    {
        while (!_stoppingToken.IsCancellationRequested && _waiting.Reader.TryPeek(out _) && TryTakePlace())
        {
            if (_waiting.Reader.TryRead(out var next))
            {
                // Off this thread: the job that ended must not run the next one's first steps in its continuation.
                _ = Task.Run(() => Start(next), CancellationToken.None);
            }
            else
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }
}
