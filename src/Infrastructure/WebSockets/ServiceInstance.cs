using CallNotify.Domain.Common;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>This process among the instances serving one store: an <c>IN…</c> id drawn at start-up.</summary>
public sealed class ServiceInstance(TimeProvider time)
{
    public string Id { get; } = Ids.New(Ids.InstancePrefix, time.GetUtcNow());
}
