using System.Diagnostics;
using System.Threading.Channels;
using CallNotify.Infrastructure.Persistence.Postgres;

namespace CallNotify.Infrastructure.Tests.Persistence;

public class BatchLoopTests
{
    private static readonly AsyncLocal<string?> Caller = new();

    [Test]
    public async Task TheLoopsDoNotCarryTheContextOfTheCallThatStartedThem()
    {
        // The loops are started by whichever request first needs them, then serve every request after it.
        var queue = Channel.CreateUnbounded<int>();
        var seen = new List<(string? Caller, ActivityTraceId? Trace)>();
        var processed = 0;
        int Processed()
        {
            lock (seen)
            {
                return processed;
            }
        }

        Task[] loops;
        using (var listener = new ActivityListener { ShouldListenTo = _ => true, Sample = (ref _) => ActivitySamplingResult.AllData })
        using (var source = new ActivitySource("BatchLoopTests"))
        {
            ActivitySource.AddActivityListener(listener);
            using var firstRequest = source.StartActivity("first request");
            Caller.Value = "the first request";
            loops = BatchLoop.Start(queue.Reader, 2, 8, batch =>
            {
                lock (seen)
                {
                    seen.Add((Caller.Value, Activity.Current?.TraceId));
                    processed += batch.Count;
                }

                return Task.CompletedTask;
            });
            Caller.Value = null;
        }

        // One at a time, each taken before the next is queued, so that both loops are likely to serve some.
        for (var i = 0; i < 4; i++)
        {
            queue.Writer.TryWrite(i);
            var taken = i + 1;
            Assert.That(await Eventually.TrueAsync(() => queue.Reader.Count == 0 && Processed() >= taken), Is.True);
        }

        queue.Writer.Complete();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(seen, Is.Not.Empty.And.All.EqualTo((ValueTuple<string?, ActivityTraceId?>)(null, null)));
    }

    [Test]
    public async Task EveryItemIsProcessedOnceInBatchesOfAtMostTheLimit()
    {
        var queue = Channel.CreateUnbounded<int>();
        var batches = new List<int[]>();
        for (var i = 0; i < 100; i++)
        {
            queue.Writer.TryWrite(i);
        }

        var loops = BatchLoop.Start(queue.Reader, 3, 8, batch =>
        {
            lock (batches)
            {
                batches.Add([.. batch]);
            }

            return Task.CompletedTask;
        });
        queue.Writer.Complete();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(10));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(batches.SelectMany(b => b).Order(), Is.EqualTo(Enumerable.Range(0, 100)));
            Assert.That(batches.Max(b => b.Length), Is.LessThanOrEqualTo(8));
        }
    }
}
