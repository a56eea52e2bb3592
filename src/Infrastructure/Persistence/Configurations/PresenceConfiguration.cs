using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence.Presence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class InstanceConfiguration : IEntityTypeConfiguration<InstanceRecord>
{
    public void Configure(EntityTypeBuilder<InstanceRecord> builder)
    {
        builder.ToTable("instances");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Id).HasMaxLength(34);
        builder.HasIndex(i => i.HeartbeatAt);
    }
}

internal sealed class LiveSessionConfiguration : IEntityTypeConfiguration<LiveSessionRecord>
{
    public void Configure(EntityTypeBuilder<LiveSessionRecord> builder)
    {
        builder.ToTable("live_sessions");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).HasMaxLength(34);
        builder.Property(s => s.InstanceId).HasMaxLength(34).IsRequired();
        builder.Property(s => s.AccountSid).HasMaxLength(AccountSid.Length).IsRequired();
        builder.Property(s => s.Identity).HasMaxLength(ClientIdentity.MaxLength).IsRequired();

        // The webhook's lookup, and the clean-up of one instance's sessions.
        builder.HasIndex(s => new { s.AccountSid, s.Identity });
        builder.HasIndex(s => s.InstanceId);
    }
}

internal sealed class SignOutConfiguration : IEntityTypeConfiguration<SignOutRecord>
{
    public void Configure(EntityTypeBuilder<SignOutRecord> builder)
    {
        builder.ToTable("sign_outs");
        builder.HasKey(s => new { s.AccountSid, s.Identity });
        builder.Property(s => s.AccountSid).HasMaxLength(AccountSid.Length);
        builder.Property(s => s.Identity).HasMaxLength(ClientIdentity.MaxLength);

        // Every instance reads the recent ones to end its sessions of those identities.
        builder.HasIndex(s => s.SignedOutAt);
    }
}

internal sealed class MessageIdConfiguration : IEntityTypeConfiguration<MessageIdRecord>
{
    public void Configure(EntityTypeBuilder<MessageIdRecord> builder)
    {
        builder.ToTable("message_ids");
        builder.HasKey(m => new { m.AccountSid, m.TwiMessageId });
        builder.Property(m => m.AccountSid).HasMaxLength(AccountSid.Length);
        builder.Property(m => m.TwiMessageId).HasMaxLength(CallNotification.MaxFieldLength);
        builder.Property(m => m.Outcome).HasMaxLength(32);

        // The sweeper forgets the oldest.
        builder.HasIndex(m => m.RecordedAt);
    }
}
