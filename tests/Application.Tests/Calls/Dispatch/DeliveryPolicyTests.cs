using CallNotify.Application.Calls.Dispatch;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Tests.Calls.Dispatch;

public sealed class DeliveryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [TestCase(0, 30, true, TestName = "AnAttemptNowFitsALiveInvite")]
    [TestCase(29_999, 30, true, TestName = "AnAttemptJustBeforeTheEndFits")]
    [TestCase(30_000, 30, false, TestName = "AnAttemptAtTheEndDoesNotFit")]
    [TestCase(0, 0, false, TestName = "NothingFitsAnEndedInvite")]
    public void AnotherAttemptMustStartWithinTheInvite(int delayMilliseconds, int secondsLeft, bool fits) =>
        Assert.That(RetrySchedule.FitsInInvite(Now, TimeSpan.FromMilliseconds(delayMilliseconds), Now.AddSeconds(secondsLeft)), Is.EqualTo(fits));

    [Test]
    public void ADeadTokenDeactivatesItsBindingWithTheProvidersReason() =>
        Assert.That(
            BindingConsequence.Of(DeliveryResult.ClientGone(InactiveReasons.SenderIdMismatch)),
            Is.EqualTo(new BindingConsequence(BindingConsequenceKind.Deactivate, InactiveReasons.SenderIdMismatch)));

    [Test]
    public void AnAcceptedPushStampsItsBinding() =>
        Assert.That(BindingConsequence.Of(DeliveryResult.Accepted()).Kind, Is.EqualTo(BindingConsequenceKind.StampDelivery));

    [Test]
    public void RetriesAndOtherFailuresLeaveTheBindingAlone() =>
        Assert.That(
            new[] { DeliveryResult.Retry("fcm-503"), DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge), DeliveryResult.Failed(DeliveryErrors.ChannelNotConfigured) }
                .Select(r => BindingConsequence.Of(r).Kind),
            Is.All.EqualTo(BindingConsequenceKind.None));
}
