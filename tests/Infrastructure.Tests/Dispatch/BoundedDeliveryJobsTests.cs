using CallNotify.Application.Calls.Dispatch;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Dispatch;

namespace CallNotify.Infrastructure.Tests.Dispatch;

public sealed class BoundedDeliveryJobsTests
{
    [Test]
    public void AFullQueueRefusesAtOnceInsteadOfWaiting()
    {
        var jobs = new BoundedDeliveryJobs();
        var job = new DeliveryJob(null!, null!, null, new TaskCompletionSource<NotificationOutcome>(), 1, default);

        var accepted = Enumerable.Range(0, BoundedDeliveryJobs.Capacity).Count(_ => jobs.TryEnqueue(job));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(accepted, Is.EqualTo(BoundedDeliveryJobs.Capacity));
            Assert.That(jobs.TryEnqueue(job), Is.False);
        }
    }
}
