//! Synthetic history appended in bulk with SQL, in the exact payload format the
//! event enums serialize to: for each `i`, a user registers, an admin's public
//! invite is created, activated and used by that user (4 events).

use sqlx::PgPool;

const SYNTHETIC_CYCLES: &str = r#"
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata)
SELECT t.aggregate_type, t.aggregate_id, t.sequence, t.event_type, '1', t.payload, '{}'
FROM generate_series($1::int, $2::int) AS i
CROSS JOIN LATERAL (VALUES
 (1, 'user', 'synthetic-user-' || i, 1, 'Registered', json_build_object('Registered',
    json_build_object('email', 'synthetic' || i || '@example.com', 'name', 'Synthetic ' || i,
      'role', 'user', 'at', '2026-03-01T09:00:00Z'))),
 (2, 'invite', 'synthetic-invite-' || i, 1, 'Created', json_build_object('Created',
    json_build_object('terms', json_build_object('invite_id', md5('synthetic' || i)::uuid,
        'token_type', 'token', 'role', 'user', 'email', NULL, 'new_account', true,
        'max_uses', 1, 'expires_at', '2026-03-01T10:00:00Z',
        'redirect_to_sign_up', '/auth/sign-up', 'redirect_to_sign_in', '/auth/sign-in',
        'redirect_to_after_upgrade', '/auth/invited', 'share_inviter_name', true,
        'sender_response_redirect', 'signUp'),
      'inviter_id', 'synthetic-admin', 'inviter_name', 'Synthetic Admin',
      'inviter_email', 'synthetic-admin@example.com', 'inviter_role', 'admin',
      'at', '2026-03-01T09:00:00Z'))),
 (3, 'invite', 'synthetic-invite-' || i, 2, 'Activated', json_build_object('Activated',
    json_build_object('by_user_id', NULL, 'at', '2026-03-01T09:00:01Z'))),
 (4, 'invite', 'synthetic-invite-' || i, 3, 'Used', json_build_object('Used',
    json_build_object('invite_id', md5('synthetic' || i)::uuid,
      'inviter_id', 'synthetic-admin', 'user_id', 'synthetic-user-' || i,
      'user_email', 'synthetic' || i || '@example.com', 'role_before', 'user',
      'role_after', 'user', 'new_account', true, 'at', '2026-03-01T09:00:02Z')))
) AS t(k, aggregate_type, aggregate_id, sequence, event_type, payload)
ORDER BY i, t.k
"#;

/// Appends cycles `first..=last` (4 events each) in one transaction.
pub async fn append_cycles(pool: &PgPool, first: i32, last: i32) {
    sqlx::query(SYNTHETIC_CYCLES)
        .bind(first)
        .bind(last)
        .execute(pool)
        .await
        .expect("synthetic events appended");
}
