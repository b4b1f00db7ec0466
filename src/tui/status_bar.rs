//! The bottom line: the keys that work where the keyboard is now, from the
//! keymap in force.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::keymap::{Action, Context, KeyMap};
use super::view::ViewContext;

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, keymap: &KeyMap, context: Context) {
    let theme = ctx.theme;
    // Help and quit sit at the right edge so a narrow terminal never cuts them off.
    let pinned = |action: Action| matches!(action, Action::Quit | Action::ToggleHelp);
    let mut right = Vec::new();
    if context.allows_global() {
        for binding in keymap
            .bindings()
            .filter(|b| b.context == Context::Global && pinned(b.action))
        {
            right.push(Span::styled(binding.label.as_str(), theme.key));
            right.push(Span::raw(format!(
                " {} ",
                binding.bar.unwrap_or(binding.help)
            )));
        }
    }
    let right_width: usize = right.iter().map(Span::width).sum();
    let room = (area.width as usize).saturating_sub(right_width + 1);

    let mut left = vec![Span::styled(
        format!(" {} ", context.title()),
        theme.selected,
    )];
    let mut used: usize = left.iter().map(Span::width).sum();
    // Whole entries only: half a key description misleads.
    for (binding, short) in keymap
        .bindings_for(context)
        .filter_map(|b| b.bar.map(|short| (b, short)))
    {
        // Mine / everyone means nothing alone.
        if pinned(binding.action) || (binding.action.team_only() && ctx.team.is_none()) {
            continue;
        }
        let description = format!(" {short} ");
        let width = 1 + binding.label.chars().count() + description.chars().count();
        if used + width > room {
            break;
        }
        used += width;
        left.push(Span::raw(" "));
        // What this operator's role cannot do stays listed, greyed out.
        if ctx.may(binding.action) {
            left.push(Span::styled(binding.label.as_str(), theme.key));
            left.push(Span::raw(description));
        } else {
            left.push(Span::styled(binding.label.as_str(), theme.dim));
            left.push(Span::styled(description, theme.dim));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(left)), area);
    frame.render_widget(
        Paragraph::new(Line::from(right)).alignment(Alignment::Right),
        area,
    );
}
