using CallNotify.Application.Common.Validation;
using FluentValidation;

namespace CallNotify.Application.WebSockets.IssueWebSocketToken;

public sealed class IssueWebSocketTokenValidator : AbstractValidator<IssueWebSocketTokenCommand>
{
    public IssueWebSocketTokenValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid();
        RuleFor(x => x.Identity).MustBeIdentity();
        RuleFor(x => x.TtlSeconds).InclusiveBetween(1, IssueWebSocketTokenCommand.MaxTtlSeconds);
    }
}
