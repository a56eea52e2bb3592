using System.Net;
using System.Net.Sockets;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Tests.Channels.Apns.Support;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsResilienceTests : ApnsWireTestBase
{
    private static readonly FakeReply Unavailable = new(503, "ServiceUnavailable");

    /// <summary>An https URL on a loopback port nothing listens on.</summary>
    internal static string ClosedEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"https://127.0.0.1:{port}";
    }

    [Test]
    public async Task AConnectionThatFailsIsATransportErrorToRetry()
    {
        Configure(settings => settings["Apns:ProductionEndpoint"] = ClosedEndpoint());

        var result = await SendAsync(ChannelKind.ApnsVoip);

        Assert.That(result, Is.EqualTo(DeliveryResult.Retry(ApnsSender.TransportError)));
    }

    [Test]
    public async Task AnAttemptApnsDoesNotAnswerTimesOutAsATransportErrorToRetry()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Server.Respond = async (_, aborted) =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
            return FakeReply.Ok;
        };

        var sending = SendAsync(ChannelKind.ApnsVoip);
        await arrived.Task.WaitAsync(Patience);
        Time.Advance(ApnsRegistration.AttemptTimeout);

        Assert.That(await sending, Is.EqualTo(DeliveryResult.Retry(ApnsSender.TransportError)));
    }

    [Test]
    public async Task TheCallersCancellationIsNotTurnedIntoAResult()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Server.Respond = async (_, aborted) =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
            return FakeReply.Ok;
        };
        using var caller = new CancellationTokenSource();

        var sending = SendAsync(Message(ChannelKind.ApnsVoip), caller.Token);
        await arrived.Task.WaitAsync(Patience);
        await caller.CancelAsync();

        Assert.That(async () => await sending, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task ServerErrorsForSeveralDevicesOpenTheCircuitWhichThenFailsFastWithoutCallingApns()
    {
        Server.Respond = (_, _) => Task.FromResult(Unavailable);
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            Assert.That(await SendAsync(Message(ChannelKind.ApnsVoip, address: Device(i % ProviderCircuit.DistinctDevices))), Is.EqualTo(DeliveryResult.Retry("service-unavailable")));
        }

        var whileOpen = await SendAsync(ChannelKind.Apns);
        Time.Advance(TimeSpan.FromSeconds(0.5));
        var later = await SendAsync(ChannelKind.Apns);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(whileOpen, Is.EqualTo(DeliveryResult.Retry(ApnsSender.CircuitOpen, ProviderCircuit.BreakDuration)));
            Assert.That(later, Is.EqualTo(DeliveryResult.Retry(ApnsSender.CircuitOpen, ProviderCircuit.BreakDuration - TimeSpan.FromSeconds(0.5))), "retry when it half-opens");
            Assert.That(Server.Requests, Has.Count.EqualTo(ProviderCircuit.MinimumThroughput));
        }

        // After the break a probe goes through, and its success closes the circuit.
        Server.Respond = (_, _) => Task.FromResult(FakeReply.Ok);
        Time.Advance(ProviderCircuit.BreakDuration);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(await SendAsync(ChannelKind.ApnsVoip), Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(await SendAsync(ChannelKind.ApnsVoip), Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(Server.Requests, Has.Count.EqualTo(ProviderCircuit.MinimumThroughput + 2));
        }
    }

    /// <summary>Issue #15: one device that keeps failing must not hold back anyone else's push.</summary>
    [Test]
    public async Task OneDeviceThatKeepsFailingNeverHoldsBackAnotherDevicesPush()
    {
        var failingDevice = Device(0);
        Server.Respond = (request, _) => Task.FromResult(request.DeviceToken == failingDevice ? Unavailable : FakeReply.Ok);
        var failing = new List<DeliveryResult>();
        var healthy = new List<DeliveryResult>();
        for (var round = 0; round < 3 * ProviderCircuit.MinimumThroughput; round++)
        {
            failing.Add(await SendAsync(Message(ChannelKind.ApnsVoip, address: failingDevice)));
            failing.Add(await SendAsync(Message(ChannelKind.ApnsVoip, address: failingDevice)));
            healthy.Add(await SendAsync(Message(ChannelKind.ApnsVoip, address: Device(round + 1))));
            Time.Advance(TimeSpan.FromMilliseconds(200));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(failing, Is.All.EqualTo(DeliveryResult.Retry("service-unavailable")));
            Assert.That(healthy, Is.All.EqualTo(DeliveryResult.Accepted()), "every healthy push accepted on its first attempt");
        }
    }

    private static string Device(int k) => k.ToString("x8", System.Globalization.CultureInfo.InvariantCulture) + new string('a', 56);

    [Test]
    public async Task AnOpenCircuitToTheSandboxLeavesProductionAlone()
    {
        Server.Respond = (request, _) => Task.FromResult(request.Endpoint == ApnsEndpointKind.Sandbox ? Unavailable : FakeReply.Ok);
        for (var i = 0; i < ProviderCircuit.MinimumThroughput; i++)
        {
            await SendAsync(Message(ChannelKind.ApnsVoip, environment: ApnsEnvironment.Sandbox, address: Device(i)));
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(
                (await SendAsync(Message(ChannelKind.ApnsVoip, environment: ApnsEnvironment.Sandbox))).Reason,
                Is.EqualTo(ApnsSender.CircuitOpen));
            Assert.That(
                await SendAsync(Message(ChannelKind.ApnsVoip, environment: ApnsEnvironment.Production)),
                Is.EqualTo(DeliveryResult.Accepted()));
        }
    }

    [Test]
    public async Task ProviderAnswersThatAreNotFailuresKeepTheCircuitClosed()
    {
        Server.Respond = (_, _) => Task.FromResult(new FakeReply(410, "Unregistered"));
        for (var i = 0; i < 12; i++)
        {
            await SendAsync(ChannelKind.ApnsVoip);
        }

        Assert.That(Server.Requests, Has.Count.EqualTo(12));
    }
}
