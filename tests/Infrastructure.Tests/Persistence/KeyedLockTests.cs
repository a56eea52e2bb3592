using CallNotify.Infrastructure.Persistence.Postgres;

namespace CallNotify.Infrastructure.Tests.Persistence;

public class KeyedLockTests
{
    [Test]
    public async Task HoldersOfOneKeyGoOneAtATimeAndOtherKeysAreNotHeldUp()
    {
        var locks = new KeyedLock();
        var first = await locks.AcquireAsync("NO1", CancellationToken.None);
        var second = locks.AcquireAsync("NO1", CancellationToken.None);
        var other = locks.AcquireAsync("NO2", CancellationToken.None);

        Assert.That(other.IsCompletedSuccessfully, Is.True, "another key is free");
        Assert.That(second.IsCompleted, Is.False, "the same key waits");
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        (await other).Dispose();
        Assert.That(locks.Count, Is.Zero, "no entry outlives its holders");
    }

    [Test]
    public async Task ConcurrentHoldersNeverOverlap()
    {
        var locks = new KeyedLock();
        var inside = new int[3];
        var overlaps = 0;
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var key = i % 3;
            using var turn = await locks.AcquireAsync("NO" + key, CancellationToken.None);
            if (Interlocked.Increment(ref inside[key]) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            await Task.Delay(1);
            Interlocked.Decrement(ref inside[key]);
        })));

        Assert.That(overlaps, Is.Zero);
        Assert.That(locks.Count, Is.Zero);
    }

    [Test]
    public async Task AWaiterThatGivesUpLeavesNoTrace()
    {
        var locks = new KeyedLock();
        var held = await locks.AcquireAsync("NO1", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = locks.AcquireAsync("NO1", cancel.Token);
        await cancel.CancelAsync();

        Assert.That(async () => await waiting, Throws.InstanceOf<OperationCanceledException>());
        held.Dispose();
        Assert.That(locks.Count, Is.Zero);
    }
}
