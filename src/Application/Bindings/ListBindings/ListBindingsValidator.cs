using CallNotify.Domain.Bindings;
using CallNotify.Application.Common.Paging;
using CallNotify.Application.Common.Validation;
using CallNotify.Domain.Common;
using FluentValidation;

namespace CallNotify.Application.Bindings.ListBindings;

public sealed class ListBindingsValidator : AbstractValidator<ListBindingsQuery>
{
    public ListBindingsValidator()
    {
        RuleFor(x => x.AccountSid).MustBeAccountSid().When(x => x.AccountSid is not null);
        RuleFor(x => x.Identity).MustBeIdentity().When(x => x.Identity is not null);
        RuleFor(x => x.Channel)
            .Must(c => ChannelKinds.TryParse(c, out var kind) && kind.IsPush())
            .When(x => x.Channel is not null)
            .WithMessage("'{PropertyName}' must be one of 'fcm', 'apns-voip', 'apns'.");
        RuleFor(x => x.Status)
            .Must(s => BindingStatuses.TryParse(s, out _))
            .When(x => x.Status is not null)
            .WithMessage("'{PropertyName}' must be 'active' or 'inactive'.");
        RuleFor(x => x.PageSize).MustBePageSize();
        RuleFor(x => x.PageToken)
            .Must(t => PageToken.TryDecode(t, Ids.BindingPrefix, out _))
            .WithMessage("'{PropertyName}' is not a token this API issued.");
    }
}
