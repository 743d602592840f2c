//! Which e-mails a family receives: those it may do without (`NoticeKind::optional`) can be
//! turned off in "Mon compte"; the notifications consumer respects the choice when it decides
//! an e-mail, and those e-mails carry `List-Unsubscribe` pointing there.

use crate::app::{AppResult, Caller, Cantine};
use crate::db;
use crate::domain::notification::NoticeKind;

/// Each kind the family may turn off, and whether it receives it.
pub async fn of_family(cantine: &Cantine, caller: &Caller) -> AppResult<Vec<(NoticeKind, bool)>> {
    let family_id = caller.family()?;
    let off = db::mail_preferences::turned_off(&cantine.pool, family_id).await?;
    Ok(NoticeKind::ALL
        .into_iter()
        .filter(|k| k.optional())
        .map(|k| (k, !off.iter().any(|o| o == k.code())))
        .collect())
}

/// The family receives the optional kinds among `wanted` and none of the others.
pub async fn set(cantine: &Cantine, caller: &Caller, wanted: &[NoticeKind]) -> AppResult<()> {
    let family_id = caller.family()?;
    let choices: Vec<(&str, bool)> = NoticeKind::ALL
        .into_iter()
        .filter(|k| k.optional())
        .map(|k| (k.code(), wanted.contains(&k)))
        .collect();
    db::mail_preferences::set(&cantine.pool, family_id, &choices, cantine.clock.now()).await?;
    Ok(())
}
