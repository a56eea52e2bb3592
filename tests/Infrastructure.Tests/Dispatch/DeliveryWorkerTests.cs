using System.Text;
using CallNotify.Application.Calls.Dispatch;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Dispatch;
using Microsoft.Extensions.Logging.Abstractions;

namespace CallNotify.Infrastructure.Tests.Dispatch;

/// <summary>The hosted delivery worker: bounded in what runs and in what waits, refusing at once beyond both.</summary>
public sealed class DeliveryWorkerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Test]
    [CancelAfter(30_000)]
    public async Task RunsUpToItsLimitQueuesTheRestRefusesBeyondAndStartsTheWaitingAsPlacesFree()
    {
        var channel = new GatedChannel();
        var runner = new DeliveryRunner([channel], new NoRecord(), new NoBindings(), TimeProvider.System, NullLogger<DeliveryRunner>.Instance);
        using var worker = new DeliveryWorker(runner, NullLogger<DeliveryWorker>.Instance, maxRunning: 2, capacity: 3);
        await worker.StartAsync(CancellationToken.None);

        var accepted = Enumerable.Range(0, 5).Select(_ => worker.TryEnqueue(Job())).ToList();
        var refused = worker.TryEnqueue(Job());
        var startedFirst = await Eventually.TrueAsync(() => channel.Sends == 2);
        var runningFirst = worker.Running;

        channel.Open();
        var allSent = await Eventually.TrueAsync(() => channel.Sends == 5);
        var allEnded = await Eventually.TrueAsync(() => worker.Running == 0);
        await worker.StopAsync(CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.All.True, "two run and three wait");
            Assert.That(refused, Is.False, "the sixth is refused at once");
            Assert.That(startedFirst, Is.True);
            Assert.That(runningFirst, Is.EqualTo(2), "no more than the limit run");
            Assert.That(allSent, Is.True, "the waiting ones start as places free");
            Assert.That(allEnded, Is.True);
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task StoppingCancelsWhatRunsAndRefusesWhatComesAfter()
    {
        var channel = new GatedChannel();
        var runner = new DeliveryRunner([channel], new NoRecord(), new NoBindings(), TimeProvider.System, NullLogger<DeliveryRunner>.Instance);
        using var worker = new DeliveryWorker(runner, NullLogger<DeliveryWorker>.Instance, maxRunning: 4, capacity: 4);
        await worker.StartAsync(CancellationToken.None);
        Assert.That(worker.TryEnqueue(Job()), Is.True);
        Assert.That(await Eventually.TrueAsync(() => channel.Sends == 1), Is.True);

        await worker.StopAsync(CancellationToken.None).WaitAsync(Bound);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(await Eventually.TrueAsync(() => worker.Running == 0), Is.True, "the running delivery was cancelled and has ended");
            Assert.That(worker.TryEnqueue(Job()), Is.False);
        }
    }

    private static DeliveryJob Job()
    {
        var notification = CallNotification.Receive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), "WB" + Guid.NewGuid().ToString("N"), "CA1", "client:alice", "client:bob",
            ClientIdentity.Parse("bob"), "twilio.voice.call", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30),
            [DeliveryTarget.ForSession("WS1")]);
        return new DeliveryJob(notification, notification.Deliveries[0], null, new TaskCompletionSource<NotificationOutcome>(), 1, default);
    }

    /// <summary>A WebSocket channel whose sends wait until the test opens it.</summary>
    private sealed class GatedChannel : INotificationChannel
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _sends;

        public ChannelKind Kind => ChannelKind.WebSocket;

        public int Sends => Volatile.Read(ref _sends);

        public void Open() => _open.TrySetResult();

        public async ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _sends);
            await _open.Task.WaitAsync(cancellationToken);
            return DeliveryResult.Accepted();
        }
    }

    /// <summary>A store that has nothing: every result's record finds no notification, which ends the delivery.</summary>
    private sealed class NoRecord : INotificationStore
    {
        public Task<bool> TryAddAsync(CallNotification notification, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<bool> TryRememberAsync(AccountSid accountSid, string twiMessageId, NotificationOutcome outcome, DateTimeOffset at, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task<NotificationOutcome?> FindRememberedAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) => Task.FromResult<NotificationOutcome?>(null);

        public Task<CallNotification?> FindAsync(AccountSid accountSid, string twiMessageId, CancellationToken cancellationToken) => Task.FromResult<CallNotification?>(null);

        public Task<CalleeClients> FindCalleesAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) => Task.FromResult(new CalleeClients([], []));

        public Task<CallNotification?> UpdateAsync(string id, Func<CallNotification, bool> change, CancellationToken cancellationToken) => Task.FromResult<CallNotification?>(null);

        public Task<IReadOnlyList<StalledDelivery>> FindStalledAsync(DateTimeOffset dueAfter, DateTimeOffset dueBy, int limit, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<StalledDelivery>>([]);

        public Task RecordBindingDeliveryAsync(string bindingId, DateTimeOffset at, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>No binding is ever needed: the jobs are WebSocket deliveries.</summary>
    private sealed class NoBindings : IBindingRepository
    {
        public Task<Domain.Bindings.Binding?> GetAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Domain.Bindings.Binding?> FindByAddressAsync(ChannelKind channel, string address, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<Domain.Bindings.Binding>> FindActiveAsync(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<Domain.Bindings.Binding>> ListAsync(BindingQuery query, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task AddAsync(Domain.Bindings.Binding binding, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Domain.Bindings.Binding?> UpdateAsync(string id, Func<Domain.Bindings.Binding, bool> change, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<int> DeleteAllAsync(AccountSid accountSid, ClientIdentity identity, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<(AccountSid AccountSid, ClientIdentity Identity)>> FindCrowdedIdentitiesAsync(int max, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<string>> FindExpiredActiveAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
