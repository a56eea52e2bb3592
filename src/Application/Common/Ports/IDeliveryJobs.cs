using CallNotify.Application.Calls.Dispatch;

namespace CallNotify.Application.Common.Ports;

/// <summary>
/// The bounded queue of delivery jobs that feeds the hosted delivery worker. Enqueuing never waits: a full queue refuses at once, and the
/// refused delivery stays pending on record for a takeover to carry out.
/// </summary>
public interface IDeliveryJobs
{
    bool TryEnqueue(DeliveryJob job);
}
