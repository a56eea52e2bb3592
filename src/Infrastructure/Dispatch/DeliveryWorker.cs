using System.Threading.Channels;
using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Dispatch;

/// <summary>
/// The delivery queue: bounded, and refusing at once when full (<see cref="IDeliveryJobs"/>). A refused delivery stays
/// pending on record, where a takeover finds it.
/// </summary>
public sealed class BoundedDeliveryJobs : IDeliveryJobs
{
    /// <summary>Deliveries waiting for the worker, at most.</summary>
    public const int Capacity = 10_000;

    private readonly Channel<DeliveryJob> _jobs = Channel.CreateBounded<DeliveryJob>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait });

    internal ChannelReader<DeliveryJob> Reader => _jobs.Reader;

    public bool TryEnqueue(DeliveryJob job) => _jobs.Writer.TryWrite(job);
}

/// <summary>
/// The hosted worker that carries out deliveries: it takes each queued job and runs it (<see cref="DeliveryRunner"/>),
/// at most <see cref="MaxRunning"/> at once. On shutdown it cancels the running ones, which leave their deliveries
/// pending on record, and waits for them to stop.
/// </summary>
public sealed class DeliveryWorker(BoundedDeliveryJobs queue, DeliveryRunner runner, ILogger<DeliveryWorker> logger) : BackgroundService
{
    /// <summary>Deliveries in progress at once (a retry waiting for its backoff counts).</summary>
    public const int MaxRunning = 4096;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(MaxRunning);
        var running = new HashSet<Task>();
        var gate = new Lock();
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await slots.WaitAsync(stoppingToken);
                var task = RunAsync(job, slots, stoppingToken);
                lock (gate)
                {
                    if (!task.IsCompleted)
                    {
                        running.Add(task);
                    }
                }

                _ = task.ContinueWith(
                    done =>
                    {
                        lock (gate)
                        {
                            running.Remove(done);
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }

        Task[] left;
        lock (gate)
        {
            left = [.. running];
        }

        await Task.WhenAll(left);
    }

    private async Task RunAsync(DeliveryJob job, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        try
        {
            // The job runs on the thread pool, not inline: one slow first step must not hold the queue's reader.
            await Task.Yield();
            await runner.RunAsync(job, stoppingToken);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Delivery {DeliveryId} failed in the worker", job.Delivery.Id);
        }
        finally
        {
            slots.Release();
        }
    }
}
